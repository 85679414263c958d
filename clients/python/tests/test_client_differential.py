"""The same random operations on a local file through `mmap.mmap` and on a copy served by mmapd
through `mmapd_client`: every result and every exception type must agree, and after every
flush the two files must hold the same bytes.

Seeded (the seed and the last operations are in the failure message); the remote object runs
with a tiny block size and cache so that block boundaries, eviction and automatic flushes of
pending writes are all crossed many times.
"""

from __future__ import annotations

import mmap
import random
from pathlib import Path
from typing import Any, Callable

import pytest

import mmapd_client

ALPHABET = b"ab\nc"


def outcome(action: Callable[[Any], Any], target: Any) -> tuple[str, Any]:
    try:
        return "value", action(target)
    except Exception as error:  # noqa: BLE001 - the type is what is compared
        return "raises", _mmap_kind(error)


def _mmap_kind(error: Exception) -> str:
    """The builtin exception class the error is (mmapd_client's errors subclass builtins)."""
    for kind in (IndexError, TypeError, ValueError, OverflowError, OSError):
        if isinstance(error, kind):
            return kind.__name__
    return type(error).__name__


def random_bytes(rng: random.Random, n: int) -> bytes:
    return bytes(rng.choice(ALPHABET) for _ in range(n))


class Operations:
    """Random operations, each a (description, callable) pair applied to both objects."""

    def __init__(self, rng: random.Random, resize: bool) -> None:
        self.rng = rng
        self.resize = resize

    def index(self, size: int) -> int:
        return self.rng.randint(-size - 3, size + 3)

    def bound(self, size: int) -> int | None:
        r = self.rng.random()
        if r < 0.1:
            return None
        if r < 0.15:
            return self.rng.choice([2**70, -2**70, 2**62])
        return self.rng.randint(-size - 5, size + 5)

    def needle(self, data: bytes) -> bytes:
        r = self.rng.random()
        if r < 0.05:
            return b""
        if r < 0.25 or len(data) < 2:
            return random_bytes(self.rng, self.rng.randint(1, 4))
        start = self.rng.randrange(len(data) - 1)
        return data[start:start + self.rng.randint(1, 6)]

    def next(self, data: bytes, writable: bool) -> tuple[str, Callable[[Any], Any]]:
        rng, size = self.rng, len(data)
        choice = rng.randrange(22)
        if choice == 0:
            return "len", len
        if choice == 1:
            i = self.index(size) if rng.random() < 0.95 else rng.choice([2**70, "x", 1.5])
            return f"m[{i!r}]", lambda m: m[i]
        if choice in (2, 3):
            s = slice(self.bound(size), self.bound(size), rng.choice([None, 1, 1, 2, 3, -1, -2, -5]))
            return f"m[{s}]", lambda m: m[s]
        if choice in (4, 5):
            s = slice(self.bound(size), self.bound(size), rng.choice([None, 1, 1, 1, 2, -1, -3]))
            length = len(range(*s.indices(size)))
            if rng.random() < 0.1:
                length += rng.choice([-1, 1])
            value = random_bytes(rng, max(length, 0))
            value = bytearray(value) if rng.random() < 0.2 else value
            return f"m[{s}] = {value!r}", lambda m: m.__setitem__(s, value)
        if choice == 6:
            i = self.index(size)
            v = rng.choice([rng.randrange(256), -1, 256, b"a"] if rng.random() < 0.2 else [rng.randrange(256)])
            return f"m[{i}] = {v!r}", lambda m: m.__setitem__(i, v)
        if choice in (7, 8):
            sub = self.needle(data)
            args = tuple(self.bound(size) for _ in range(rng.randrange(3)))
            args = tuple(a for a in args if a is not None) if rng.random() < 0.9 else args
            name = rng.choice(["find", "rfind"])
            return f"m.{name}({sub!r}, *{args})", lambda m: getattr(m, name)(sub, *args)
        if choice == 9:
            n = rng.choice([None, -1, 0, rng.randint(0, size + 10), rng.randint(0, 40)])
            return f"m.read({n})", lambda m: m.read(n) if n is not None else m.read()
        if choice == 10:
            return "m.read_byte()", lambda m: m.read_byte()
        if choice == 11:
            return "m.readline()", lambda m: m.readline()
        if choice in (12, 13):
            whence = rng.choice([0, 0, 1, 2, 3])
            pos = {0: rng.randint(-2, size + 2), 1: rng.randint(-size, size), 2: rng.randint(-size - 2, 2)}.get(whence, 0)
            return f"m.seek({pos}, {whence})", lambda m: m.seek(pos, whence)
        if choice == 14:
            return "m.tell()", lambda m: m.tell()
        if choice == 15:
            value = random_bytes(rng, rng.randint(0, 30))
            return f"m.write({value!r})", lambda m: m.write(value)
        if choice == 16:
            v = rng.choice([rng.randrange(256), rng.randrange(256), 256, -1])
            return f"m.write_byte({v})", lambda m: m.write_byte(v)
        if choice == 17:
            return "m.flush()", lambda m: m.flush()
        if choice == 18:
            return "m.size()", lambda m: m.size()
        if choice == 19 and self.resize:
            n = rng.choice([rng.randint(1, 2 * size + 10), max(size - rng.randint(0, 20), 1), -1])
            return f"m.resize({n})", lambda m: m.resize(n)
        if choice == 20:
            d, s, c = (rng.randint(-1, size + 2) for _ in range(3))
            c = rng.randint(0, 20) if rng.random() < 0.8 else c
            return f"m.move({d}, {s}, {c})", lambda m: m.move(d, s, c)
        return "m.closed", lambda m: m.closed


def run_differential(seed: int, count: int, root: Path, tmp_path: Path, url: str, access: int, resize: bool) -> None:
    rng = random.Random(seed)
    initial = random_bytes(rng, rng.randint(200, 2000))
    local_path, remote_path = tmp_path / f"local-{seed}.bin", root / f"remote-{seed}.bin"
    local_path.write_bytes(initial)
    remote_path.write_bytes(initial)
    local_file = open(local_path, "r+b")
    options = dict(block_size=rng.choice([16, 64, 1000]), cache_blocks=rng.choice([0, 4, 64]),
                   max_pending_parts=rng.choice([1, 8, 256]), if_match=rng.random() < 0.5,
                   max_age=rng.choice([0.0, 1.0]))
    writable = access == mmapd_client.ACCESS_WRITE

    def open_both() -> tuple[Any, Any]:
        local = mmap.mmap(local_file.fileno(), 0, access=mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ)
        return local, mmapd_client.open(f"{url}/files/{remote_path.name}", access, **options)

    local, remote = open_both()
    operations = Operations(rng, resize and writable)
    log: list[str] = []
    try:
        for step in range(count):
            if rng.random() < 0.01:  # closed objects: every operation raises the same
                local.close()
                remote.close()
                for _ in range(5):
                    description, action = operations.next(local_path.read_bytes(), writable)
                    log.append(f"closed: {description}")
                    assert outcome(action, local) == outcome(action, remote), _failure(seed, log, options)
                local, remote = open_both()
                continue
            description, action = operations.next(local[:], writable)
            log.append(description)
            expected, got = outcome(action, local), outcome(action, remote)
            assert expected == got, _failure(seed, log, options)
            if description == "m.flush()" and expected[0] == "value":
                assert remote_path.read_bytes() == local_path.read_bytes(), _failure(seed, log, options)
        remote.flush()
        local.flush()
        assert remote_path.read_bytes() == local_path.read_bytes(), _failure(seed, log, options)
    finally:
        local.close()
        remote.close()
        local_file.close()


def _failure(seed: int, log: list[str], options: dict[str, Any]) -> str:
    return f"seed {seed}, options {options}, last operations:\n  " + "\n  ".join(log[-15:])


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_writable_remote_mmap_matches_local_mmap(seed, root, tmp_path, start_mmapd):
    server = start_mmapd(root, "--writable")
    run_differential(seed, 1500, root, tmp_path, server.url, mmapd_client.ACCESS_WRITE, resize=True)


@pytest.mark.parametrize("seed", [11, 12])
def test_read_only_remote_mmap_matches_local_mmap(seed, root, tmp_path, start_mmapd):
    server = start_mmapd(root)
    run_differential(seed, 800, root, tmp_path, server.url, mmapd_client.ACCESS_READ, resize=False)


def test_needles_longer_than_a_search_pattern_match_local_mmap(root, tmp_path, start_mmapd, monkeypatch):
    """find/rfind of needles above 1 KiB (found through their first KiB, candidates checked by
    the client), in a file full of overlapping near misses; the client checks 2 KB around each
    candidate here instead of 64 KiB, so that one find takes many rounds."""
    monkeypatch.setattr(mmapd_client.remote_mmap, "_NEAR_CANDIDATE", 2000)
    rng = random.Random(5)
    unit = b"a" * 1500
    data = b"".join(unit[:rng.randint(1000, 1500)] + rng.choice([b"b", b"c"]) for _ in range(150))
    (root / "long.bin").write_bytes(data)
    (tmp_path / "long.bin").write_bytes(data)
    server = start_mmapd(root)
    with open(tmp_path / "long.bin", "rb") as handle, \
            mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as local, \
            mmapd_client.open(f"{server.url}/files/long.bin", mmapd_client.ACCESS_READ) as remote:
        for _ in range(25):
            start = rng.randrange(len(data) - 1100)
            needle = data[start:start + rng.randint(1025, 2600)]
            if rng.random() < 0.3:
                needle = needle[:-1] + b"z"
            window = rng.choice([(), (rng.randint(-len(data), len(data)),),
                                 (rng.randint(0, len(data)), rng.randint(-len(data), len(data)))])
            for name in ("find", "rfind"):
                assert getattr(remote, name)(needle, *window) == getattr(local, name)(needle, *window), (name, window)
