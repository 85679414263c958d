"""A directory tree with the names that trip listing parsers (spaces, UTF-8, `&`, `'`, `#`, `%`,
a leading dot, a symlink), and a byte-for-byte comparison of a mirrored copy against it."""

from __future__ import annotations

import os
import random
from pathlib import Path

# Relative path -> size. Sizes cover empty, small and a few hundred KiB.
FILES = {
    "readme.txt": 120,
    "empty.bin": 0,
    "data/big.bin": 300_000,
    "data/nested/deeper/leaf.csv": 4_096,
    "data/nested/it's & <fine>.txt": 333,
    "dir with space/été ☃.txt": 1_000,
    "dir with space/50% #1.log": 77,
    ".hidden/dot.txt": 10,
}
# Listed (and mirrored) as the file it points to.
LINKS = {"data/link-to-readme.txt": "../readme.txt"}


def make_tree(root: Path, outside: Path | None = None) -> dict[str, bytes]:
    """Writes the tree under root; returns every path a mirror must hold, with its bytes. A
    symlink leaving the root (to `outside`) is added too and must not be mirrored."""
    generator = random.Random(17)
    expected: dict[str, bytes] = {}
    for relative, size in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        data = bytes(generator.getrandbits(8) for _ in range(size)) if size < 5_000 else generator.randbytes(size)
        path.write_bytes(data)
        expected[relative] = data
    for relative, target in LINKS.items():
        os.symlink(target, root / relative)
        expected[relative] = (root / relative).read_bytes()
    if outside is not None:
        outside.mkdir(parents=True, exist_ok=True)
        (outside / "secret.txt").write_bytes(b"secret")
        os.symlink(outside / "secret.txt", root / "data" / "escape.txt")
    return expected


def mirrored_files(copy: Path, ignore: tuple[str, ...] = ()) -> dict[str, bytes]:
    """Every regular file below copy (relative path -> bytes), minus names in ignore."""
    found: dict[str, bytes] = {}
    for directory, _, names in os.walk(copy):
        for name in names:
            if name in ignore:
                continue
            path = Path(directory) / name
            found[path.relative_to(copy).as_posix()] = path.read_bytes()
    return found


def assert_same_tree(expected: dict[str, bytes], copy: Path, ignore: tuple[str, ...] = ()) -> None:
    found = mirrored_files(copy, ignore)
    assert sorted(found) == sorted(expected)
    for relative, data in expected.items():
        assert found[relative] == data, relative
