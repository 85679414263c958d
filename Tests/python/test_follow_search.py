"""`/search/<path>?q=…&follow=true` (tail -f | grep) against the real server: only lines
completed after the request, each searched whole once (a line written in two appends is matched
once, with its line number), literal and regex, file offsets, the limit, rotation and refusals."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from follow_client import FollowStream
from test_follow import get, patch_append


def objects(body: bytes) -> list[dict]:
    return [json.loads(line) for line in body.splitlines() if line]


def follow_search(server, query: str) -> FollowStream:
    stream = FollowStream(server.port, f"/search/app.log?{query}&follow=true").read_head()
    assert stream.status == 200, stream.raw
    assert stream.headers["content-type"] == "application/x-ndjson"
    return stream


def lines_read(stream: FollowStream, count: int) -> list[dict]:
    return objects(stream.read_until(lambda body: body.count(b"\n") >= count))


def reference(data: bytes, pattern: bytes, regex: bool, start: int) -> list[dict]:
    """grep over the lines that end after `start`: offsets, lines, text."""
    found = []
    offset = 0
    for number, line in enumerate(data.splitlines(keepends=True), 1):
        if offset + len(line) > start and line.endswith(b"\n"):
            if regex:
                for match in re.finditer(pattern, line):
                    found.append({"offset": offset + match.start(), "length": match.end() - match.start(), "line": number,
                                  "text": line.rstrip(b"\n").decode()})
            else:
                at = line.find(pattern)
                while at >= 0:
                    found.append({"offset": offset + at, "length": len(pattern), "line": number, "text": line.rstrip(b"\n").decode()})
                    at = line.find(pattern, at + len(pattern))
        offset += len(line)
    return found


@pytest.mark.parametrize("query, pattern, regex", [
    ("q=ERROR", b"ERROR", False),
    ("q=%5EERROR%20%5Cd%2B&regex=true", rb"^ERROR \d+", True),
])
def test_only_lines_completed_after_the_request_each_once(root: Path, start_mmapd, query, pattern, regex):
    log = root / "app.log"
    log.write_bytes(b"ERROR 1 old\nINFO 2\nERROR 3 partial")
    server = start_mmapd(root, "--writable")
    stream = follow_search(server, query)
    start = int(stream.headers["mmapd-follow-offset"])
    assert start == len(b"ERROR 1 old\nINFO 2\n")  # the incomplete line is searched once it ends
    patch_append(server.port, "app.log", b" still\nINFO 4\nERR", log.stat().st_size)
    size = log.stat().st_size
    patch_append(server.port, "app.log", b"OR 5 split across appends\nxERROR 6\n", size)
    with open(log, "ab") as file:  # and a local writer
        file.write(b"ERROR 7 ERROR twice\n")
    expected = reference(log.read_bytes(), pattern, regex, start)
    assert lines_read(stream, len(expected)) == expected
    assert [match["line"] for match in expected][:2] == [3, 5]


def test_limit_ends_with_a_summary_and_resume_with_next(root: Path, start_mmapd):
    log = root / "app.log"
    log.write_bytes(b"")
    server = start_mmapd(root)
    stream = follow_search(server, "q=hit&limit=3")
    with open(log, "ab") as file:
        file.write(b"".join(f"hit {n} hit\n".encode() for n in range(5)))
    stream.read_to_end()
    assert stream.ended
    found = objects(stream.body)
    assert [m["offset"] for m in found[:3]] == [0, 6, 10]
    assert found[3]["count"] == 3 and found[3]["truncated"] is True
    resumed = follow_search(server, f"q=hit&start={found[3]['next']}")
    rest = lines_read(resumed, 7)
    assert [m["line"] for m in rest] == [2, 3, 3, 4, 4, 5, 5]
    assert rest[0]["offset"] == 16


def test_rotation_ends_with_a_summary(root: Path, start_mmapd):
    log = root / "app.log"
    log.write_bytes(b"x\n")
    server = start_mmapd(root)
    stream = follow_search(server, "q=needle&line_numbers=false")
    with open(log, "ab") as file:
        file.write(b"a needle\nno newline needle")
    os.unlink(log)
    stream.read_to_end()
    assert stream.ended
    found = objects(stream.body)
    assert found[:2] == [{"offset": 4, "length": 6, "text": "a needle"},
                         {"offset": 22, "length": 6, "text": "no newline needle"}]
    assert found[2] == {"count": 2, "truncated": False, "next": None}


@pytest.mark.parametrize("query, status", [
    ("q=x&follow=true&reverse=true", 400),
    ("q=x&follow=true&end=5", 400),
    ("q=x&follow=true&before=1", 400),
    ("q=x&follow=true&start=-1", 400),
    ("q=x&follow=true&limit=0", 400),
    ("q=a%0Ab&follow=true", 400),
    ("q=(&regex=true&follow=true", 400),
    ("q=x&follow=true&start=100", 416),
])
def test_refusals(root: Path, start_mmapd, query, status):
    (root / "app.log").write_bytes(b"0123456789\n")
    server = start_mmapd(root)
    response, body = get(server.port, f"/search/app.log?{query}")
    assert response.status == status, body
    assert response.getheader("Content-Type") == "application/problem+json"
