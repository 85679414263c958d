"""`?follow=true` (tail -f over HTTP) against the real server over real sockets: appends by
PATCH and by a local writer in order and within the contract's 100 ms, the starting points,
rotation (truncate, rename-replace, delete), shutdown, the follower limit, a stalled reader cut
and resumed by offset, and a thousand idle followers that hold no threads."""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from pathlib import Path

import pytest

from follow_client import FollowStream


def patch_append(port: int, path: str, data: bytes, offset: int) -> float:
    """Appends `data` at `offset` by PATCH; returns the monotonic time the 204 arrived."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("PATCH", f"/files/{path}", body=data,
                       headers={"Content-Range": f"bytes {offset}-{offset + len(data) - 1}/*"})
    response = connection.getresponse()
    response.read()
    answered = time.monotonic()
    connection.close()
    assert response.status == 204, response.status
    return answered


def get(port: int, target: str):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", target)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def follow(server, target: str, **options) -> FollowStream:
    stream = FollowStream(server.port, target, **options).read_head()
    assert stream.status == 200, (stream.status, stream.raw)
    return stream


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def test_patch_appends_arrive_in_order_within_100_ms(root: Path, start_mmapd):
    log = root / "app.log"
    log.write_bytes(b"old line\n")
    server = start_mmapd(root, "--writable")
    stream = follow(server, "/files/app.log?follow=true")
    assert stream.headers["mmapd-follow-offset"] == "9"
    assert stream.headers["cache-control"] == "no-store"
    lock = threading.Lock()
    latencies: list[float] = []

    def writer(name: str) -> None:
        for number in range(20):
            with lock:  # one offset per append: the writers take turns choosing it
                line = f"{name} {number}\n".encode()
                size = log.stat().st_size
                answered = patch_append(server.port, "app.log", line, size)
                body = stream.read_until(lambda body: len(body) >= size - 9 + len(line))
                latencies.append(time.monotonic() - answered)
                assert body.endswith(line)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert stream.body == log.read_bytes()[9:]
    assert len(stream.body.splitlines()) == 60
    # Measured from the 204: the bytes are already on their way (the followers are woken first).
    assert percentile(latencies, 0.99) < 0.1, latencies


def test_local_writers_appends_arrive_in_file_order(root: Path, start_mmapd):
    log = root / "app.log"
    log.write_bytes(b"")
    server = start_mmapd(root)
    stream = follow(server, "/files/app.log?follow=true")
    assert stream.headers["mmapd-follow-offset"] == "0"
    latencies: list[float] = []

    def writer(name: str) -> None:
        fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        try:
            for number in range(200):
                os.write(fd, f"{name} line {number} {'x' * (number % 50)}\n".encode())
        finally:
            os.close(fd)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    final = log.read_bytes()
    assert stream.read_bytes(len(final)) == final
    # One writer alone, each line timed from its write(2) to its last byte on the socket.
    fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    for number in range(30):
        line = f"timed {number}\n".encode()
        size = log.stat().st_size
        written = time.monotonic()
        os.write(fd, line)
        stream.read_bytes(size + len(line))
        latencies.append(time.monotonic() - written)
    os.close(fd)
    assert stream.body == log.read_bytes()
    assert percentile(latencies, 0.99) < 0.1, latencies


def test_starting_points(root: Path, start_mmapd):
    data = b"".join(f"line {n}\n".encode() for n in range(1, 101)) + b"open end"
    (root / "a.log").write_bytes(data)
    server = start_mmapd(root)
    from_offset = follow(server, "/files/a.log?follow=true&offset=5")
    assert from_offset.headers["mmapd-follow-offset"] == "5"
    assert from_offset.read_bytes(len(data) - 5) == data[5:]
    last = follow(server, "/files/a.log?follow=true&lines=-3")
    expected = b"line 99\nline 100\nopen end"
    assert int(last.headers["mmapd-follow-offset"]) == len(data) - len(expected)
    assert last.read_bytes(len(expected)) == expected
    at_end = follow(server, f"/files/a.log?follow=true&offset={len(data)}")
    assert at_end.headers["mmapd-follow-offset"] == str(len(data))
    with open(root / "a.log", "ab") as file:
        file.write(b"\nmore\n")
    assert at_end.read_bytes(6) == b"\nmore\n"
    assert last.read_bytes(len(expected) + 6).endswith(b"open end\nmore\n")


@pytest.mark.parametrize("target, status", [
    ("/files/a.log?follow=true&offset=11", 416),
    ("/files/a.log?follow=true&offset=-1", 400),
    ("/files/a.log?follow=true&lines=1-5", 400),
    ("/files/a.log?follow=true&lines=-2&offset=0", 400),
    ("/files/a.log?follow=maybe", 400),
    ("/files/missing.log?follow=true", 404),
    ("/files/dir?follow=true", 404),
])
def test_refusals(root: Path, start_mmapd, target: str, status: int):
    (root / "a.log").write_bytes(b"0123456789")
    (root / "dir").mkdir()
    server = start_mmapd(root)
    response, body = get(server.port, target)
    assert response.status == status, body
    assert response.getheader("Content-Type") == "application/problem+json"
    assert json.loads(body)["status"] == status
    if status == 416:
        assert response.getheader("Content-Range") == "bytes */10"


def test_truncation_ends_the_stream_cleanly(root: Path, start_mmapd):
    log = root / "app.log"
    log.write_bytes(b"before\n")
    server = start_mmapd(root)
    stream = follow(server, "/files/app.log?follow=true&offset=0")
    assert stream.read_bytes(7) == b"before\n"
    os.truncate(log, 0)
    stream.read_to_end()
    assert stream.ended and stream.body == b"before\n"


def test_rename_replace_sends_the_old_files_bytes_then_ends(root: Path, start_mmapd):
    log = root / "app.log"
    log.write_bytes(b"first\n")
    server = start_mmapd(root)
    stream = follow(server, "/files/app.log?follow=true&offset=0")
    assert stream.read_bytes(6) == b"first\n"
    with open(log, "ab", buffering=0) as old:  # unbuffered: written before the replace
        old.write(b"last words\n")
        (root / "app.log.new").write_bytes(b"a new file\n")
        os.replace(root / "app.log.new", log)
    stream.read_to_end()
    assert stream.ended and stream.body == b"first\nlast words\n"
    # A new follower follows the new file.
    fresh = follow(server, "/files/app.log?follow=true&offset=0")
    assert fresh.read_bytes(11) == b"a new file\n"


def test_rename_away_and_delete_end_the_stream(root: Path, start_mmapd):
    (root / "moved.log").write_bytes(b"m\n")
    (root / "deleted.log").write_bytes(b"d\n")
    server = start_mmapd(root)
    moved = follow(server, "/files/moved.log?follow=true")
    deleted = follow(server, "/files/deleted.log?follow=true")
    os.rename(root / "moved.log", root / "moved.log.1")
    os.unlink(root / "deleted.log")
    for stream in (moved, deleted):
        stream.read_to_end()
        assert stream.ended and stream.body == b""


def test_shutdown_ends_streams_within_the_grace(root: Path, start_mmapd):
    (root / "app.log").write_bytes(b"x\n")
    server = start_mmapd(root, "--shutdown-grace", "20")
    streams = [follow(server, "/files/app.log?follow=true") for _ in range(3)]
    started = time.monotonic()
    assert server.stop() == 0
    for stream in streams:
        stream.read_to_end()
        assert stream.ended
    # Ended at once, not after the grace.
    assert time.monotonic() - started < 5


def test_the_follower_limit_answers_503(root: Path, start_mmapd):
    (root / "app.log").write_bytes(b"x\n")
    server = start_mmapd(root, "--max-followers", "2")
    first = follow(server, "/files/app.log?follow=true")
    second = follow(server, "/files/app.log?follow=true")
    response, body = get(server.port, "/files/app.log?follow=true")
    assert response.status == 503
    assert response.getheader("Content-Type") == "application/problem+json"
    assert response.getheader("Retry-After")
    assert "follow streams" in json.loads(body)["detail"]
    first.close()
    # The slot comes back once the server has seen the client leave.
    deadline = time.monotonic() + 10
    while True:
        third = FollowStream(server.port, "/files/app.log?follow=true").read_head()
        if third.status == 200:
            break
        third.close()
        assert time.monotonic() < deadline, "the closed follower's slot never came back"
    with open(root / "app.log", "ab") as file:
        file.write(b"y\n")
    assert second.read_bytes(2) == b"y\n"
    assert third.read_bytes(2) == b"y\n"


def metric(port: int, name: str) -> float:
    _, body = get(port, "/metrics")
    for line in body.decode().splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"no metric {name}")


def test_a_stalled_reader_is_cut_and_resumes_by_offset(root: Path, start_mmapd):
    log = root / "big.log"
    log.write_bytes(b"")
    server = start_mmapd(root, "--stream-stall-seconds", "1")
    stream = follow(server, "/files/big.log?follow=true", receive_buffer=4096)
    cut_before = metric(server.port, "mmapd_connections_cut_off_total")
    chunk = b"".join(f"{n:09d} a log line that nobody reads\n".encode() for n in range(20_000))
    with open(log, "ab") as file:
        for _ in range(16):
            file.write(chunk)
    total = log.stat().st_size
    deadline = time.monotonic() + 30
    while metric(server.port, "mmapd_connections_cut_off_total") == cut_before:
        assert time.monotonic() < deadline, "the stalled follower was never cut"
        time.sleep(0.2)
    received = stream.read_to_end(timeout=30)
    assert stream.closed and not stream.ended
    assert 0 < len(received) < total
    assert received == log.read_bytes()[:len(received)]
    resumed = follow(server, f"/files/big.log?follow=true&offset={len(received)}")
    assert resumed.read_bytes(total - len(received), timeout=30) == log.read_bytes()[len(received):]


def task_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


def test_a_thousand_idle_followers_hold_no_threads(root: Path, start_mmapd):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 2500:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    for n in range(4):
        (root / f"f{n}.log").write_bytes(b"")
    server = start_mmapd(root, "--max-connections", "1100", "--max-connections-per-ip", "0", "--threads", "2")
    warm = [follow(server, f"/files/f{n}.log?follow=true") for n in range(4)]
    baseline = task_count(server.process.pid)
    streams = warm + [follow(server, f"/files/f{n % 4}.log?follow=true") for n in range(996)]
    assert metric(server.port, "mmapd_follow_streams") == 1000
    idle = task_count(server.process.pid)
    # Idle followers are suspended connections: no thread each (a few pool threads may come and go).
    assert idle <= baseline + 4, (baseline, idle)
    for n in range(4):
        with open(root / f"f{n}.log", "ab") as file:
            file.write(f"wake {n}\n".encode())
    for index, stream in enumerate(streams):
        assert stream.read_bytes(7) == f"wake {index % 4}\n".encode()
    for stream in streams:
        stream.close()
