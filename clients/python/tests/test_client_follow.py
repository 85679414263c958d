"""`follow()` over the server's `?follow=true` view, against the real server: appended bytes in
order (PATCH and a local writer), the starting points, a stream the server cuts (a reader that
stopped reading) resumed by offset with nothing lost or repeated, and the end at rotation."""

from __future__ import annotations

import os
import time
import urllib.request

import pytest

import mmapd_client


def cut_off(url: str) -> float:
    with urllib.request.urlopen(f"{url}/metrics") as response:
        for line in response.read().decode().splitlines():
            if line.startswith("mmapd_connections_cut_off_total "):
                return float(line.split()[1])
    raise AssertionError("no cut-off metric")


def collect(stream, count: int) -> bytes:
    data = bytearray()
    while len(data) < count:
        data += next(stream)
    return bytes(data)


def test_follow_yields_appends_by_patch_and_by_a_local_writer(root, start_mmapd):
    (root / "app.log").write_bytes(b"one\ntwo\nthree\n")
    server = start_mmapd(root, "--writable")
    m = mmapd_client.open(f"{server.url}/files/app.log")
    with m.follow() as stream:
        assert stream.position == 14
        append = urllib.request.Request(f"{server.url}/files/app.log", data=b"four\n", method="PATCH",
                                        headers={"Content-Range": "bytes 14-18/*"})
        with urllib.request.urlopen(append) as response:
            assert response.status == 204
        assert collect(stream, 5) == b"four\n"
        with open(root / "app.log", "ab") as file:
            file.write(b"five\n")
        assert collect(stream, 5) == b"five\n"
        assert stream.position == 24
    with m.follow(lines=2) as stream:
        assert collect(stream, 10) == b"four\nfive\n"
    with m.follow(offset=4) as stream:
        assert collect(stream, 20) == b"two\nthree\nfour\nfive\n"
    with pytest.raises(ValueError):
        m.follow(offset=1, lines=1)
    with pytest.raises(mmapd_client.RangeNotSatisfiable):
        m.follow(offset=1000)
    m.close()


def test_a_cut_stream_is_resumed_by_offset(root, start_mmapd):
    log = root / "big.log"
    log.write_bytes(b"")
    server = start_mmapd(root, "--stream-stall-seconds", "1")
    m = mmapd_client.open(f"{server.url}/files/big.log", mmapd_client.ACCESS_READ)
    stream = m.follow()
    before = cut_off(server.url)
    line = b"a line that the follower does not read yet, " * 2 + b"\n"
    with open(log, "ab") as file:
        file.write(line * (24 * 1024 * 1024 // len(line)))
    total = log.stat().st_size
    deadline = time.monotonic() + 30
    while cut_off(server.url) == before:  # the server lets go of the reader that stopped reading
        assert time.monotonic() < deadline, "the stalled follower was never cut"
        time.sleep(0.2)
    data = collect(stream, total)
    assert data == log.read_bytes()
    assert stream.resumes >= 1
    stream.close()
    m.close()


def test_iteration_ends_when_the_file_is_replaced(root, start_mmapd):
    (root / "app.log").write_bytes(b"old\n")
    server = start_mmapd(root)
    m = mmapd_client.open(f"{server.url}/files/app.log", mmapd_client.ACCESS_READ)
    stream = m.follow(offset=0)
    assert next(stream) == b"old\n"
    (root / "new.log").write_bytes(b"new\n")
    os.replace(root / "new.log", root / "app.log")
    assert list(stream) == []
    m.close()
