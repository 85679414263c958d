"""Listings are built off the network threads (issue 16 item 9): with one network thread, a
small GET sent while three 100,000-entry listings (issue 17's size, the default
--max-listing-entries) are being built is answered before any of them, instead of waiting behind
them. Each listing is checked whole: every entry once, in order."""

from __future__ import annotations

import http.client
import os
import re
import threading
import time
from pathlib import Path

ENTRIES = 100_000


def make_big_directory(directory: Path) -> None:
    directory.mkdir()
    for index in range(ENTRIES):
        os.close(os.open(directory / f"entry-{index:06d}.dat", os.O_CREAT | os.O_WRONLY, 0o644))


bodies: dict[str, bytes] = {}


def get(port: int, target: str, results: dict[str, tuple[int, int, float]], key: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    started = time.monotonic()
    connection.request("GET", target)
    response = connection.getresponse()
    body = response.read()
    results[key] = (response.status, len(body), time.monotonic())
    bodies[key] = body
    connection.close()
    print(f"{key}: {response.status}, {len(body)} bytes in {time.monotonic() - started:.3f} s")


def test_a_small_get_is_not_stuck_behind_listings(root, start_mmapd):
    make_big_directory(root / "big")
    (root / "small.txt").write_bytes(b"small\n")
    server = start_mmapd(root, "--threads", "1", "--max-listing-entries", str(ENTRIES))
    results: dict[str, tuple[int, int, float]] = {}
    listings = [threading.Thread(target=get, args=(server.port, "/files/big/", results, f"listing {n}")) for n in range(3)]
    for thread in listings:
        thread.start()
    small = threading.Thread(target=get, args=(server.port, "/files/small.txt", results, "small"))
    small.start()
    for thread in [*listings, small]:
        thread.join(timeout=300)
    assert results["small"][:2] == (200, 6)
    expected = [f"entry-{index:06d}.dat" for index in range(ENTRIES)]
    for n in range(3):
        status, length, _ = results[f"listing {n}"]
        assert status == 200 and length > ENTRIES * 100
        names = re.findall(r'^<a href="([^"]+)">', bodies[f"listing {n}"].decode(), re.MULTILINE)
        assert names == expected
    # The order of completion is the point, not a time: the small answer came first.
    assert results["small"][2] < min(results[f"listing {n}"][2] for n in range(3))


def test_above_the_entry_limit_the_answer_says_so(root, start_mmapd):
    (root / "dir").mkdir()
    for name in "abcd":
        (root / "dir" / name).write_bytes(b"x")
    server = start_mmapd(root, "--max-listing-entries", "3")
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", "/files/dir/")
    response = connection.getresponse()
    body = response.read().decode()
    assert response.status == 403
    assert response.getheader("Content-Type") == "application/problem+json"
    assert "more than 3 entries" in body and "--max-listing-entries" in body
