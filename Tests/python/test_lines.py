"""The `lines` view against the real `sed -n` and `tail -n` on every edge, and the line index
under appends (PATCH and another process) and rewrites, model-based against a Python reference."""

from __future__ import annotations

import http.client
import os
import random
import subprocess
from pathlib import Path

import pytest
from urllib.parse import quote

EDGE_FILES = {
    "plain.txt": b"one\ntwo\nthree\n",
    "crlf.txt": b"one\r\ntwo\r\n\r\nthree\r\n",
    "open.txt": b"one\ntwo\nno final newline",
    "empty.txt": b"",
    "newlines.txt": b"\n\n\n\n",
    "single.txt": b"x",
    "long.txt": b"short\n" + b"L" * 60_000 + b"\nafter\n" + b"M" * 60_000,
    "binary.bin": bytes(range(256)) * 4 + b"\n\x00\n",
}

SELECTIONS = ["1", "2", "3", "4", "5", "9", "1-1", "1-2", "2-3", "2-", "1-", "3-100", "5-9", "100-200", "100-"]
TAILS = [1, 2, 3, 4, 5, 100]


def get(server, target: str, method: str = "GET", headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request(method, target, headers=headers or {})
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response, body


def sed(path: Path, selection: str) -> bytes:
    first, _, last = selection.partition("-")
    script = f"{first}p" if "-" not in selection else f"{first},{last or '$'}p"
    return subprocess.run(["sed", "-n", script, str(path)], check=True, capture_output=True).stdout


def tail(path: Path, count: int) -> bytes:
    return subprocess.run(["tail", "-n", str(count), str(path)], check=True, capture_output=True).stdout


def reference_lines(data: bytes) -> list[bytes]:
    """Lines as sed and tail count them: each ends with \\n; bytes after the last \\n are one more."""
    parts = data.split(b"\n")
    return [part + b"\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])


def check_headers(response, body: bytes, data: bytes, expected_lines: tuple[int, int] | None):
    span = response.getheader("Mmapd-Byte-Span")
    if not body:
        assert span == f"*/{len(data)}"
        assert response.getheader("Mmapd-Lines") is None
        return
    start, end = map(int, span.split("/")[0].split("-"))
    assert span.endswith(f"/{len(data)}")
    assert data[start:end + 1] == body
    if expected_lines is not None:
        assert response.getheader("Mmapd-Lines") == f"{expected_lines[0]}-{expected_lines[1]}"


@pytest.fixture
def edge_server(root: Path, start_mmapd):
    for name, data in EDGE_FILES.items():
        (root / name).write_bytes(data)
    return start_mmapd(root)


@pytest.mark.parametrize("name", sorted(EDGE_FILES))
def test_ranges_equal_sed(edge_server, root: Path, name: str):
    data = EDGE_FILES[name]
    lines = reference_lines(data)
    for selection in SELECTIONS:
        response, body = get(edge_server, f"/files/{name}?lines={selection}")
        assert response.status == 200, (selection, body)
        assert body == sed(root / name, selection), (name, selection)
        first, dash, last = selection.partition("-")
        first_n = int(first)
        last_n = min(len(lines), int(last)) if last else (len(lines) if dash else first_n)
        check_headers(response, body, data, (first_n, last_n) if body else None)


@pytest.mark.parametrize("name", sorted(EDGE_FILES))
def test_tails_equal_tail(edge_server, root: Path, name: str):
    data = EDGE_FILES[name]
    total = len(reference_lines(data))
    for count in TAILS:
        response, body = get(edge_server, f"/files/{name}?lines=-{count}")
        assert response.status == 200
        assert body == tail(root / name, count), (name, count)
        check_headers(response, body, data, (max(1, total - count + 1), total) if body else None)
        unnumbered, plain = get(edge_server, f"/files/{name}?lines=-{count}&line_numbers=false")
        assert plain == body and unnumbered.getheader("Mmapd-Lines") is None


def test_numbering_agrees_with_search(edge_server):
    response, body = get(edge_server, "/search/long.txt?q=after")
    import json
    line = json.loads(body)["matches"][0]["line"]
    response, body = get(edge_server, f"/files/long.txt?lines={line}")
    assert body == b"after\n" and response.getheader("Mmapd-Lines") == f"{line}-{line}"


@pytest.mark.parametrize("value", ["0", "0-3", "3-0", "-0", "3-2", "", "-", "a", "1-2-3", "+1", "1,2", " 1", "1 ", "99999999999999999999", "--1"])
def test_bad_selections_are_400(edge_server, value: str):
    response, body = get(edge_server, f"/files/plain.txt?lines={quote(value)}")
    assert response.status == 400, value
    assert response.getheader("Content-Type") == "application/problem+json"


def test_view_validators_head_and_conditionals(edge_server):
    whole, _ = get(edge_server, "/files/plain.txt")
    response, body = get(edge_server, "/files/plain.txt?lines=2-3", headers={"Range": "bytes=0-0"})
    assert response.status == 200 and body == b"two\nthree\n"  # Range ignored
    tag = response.getheader("ETag")
    assert tag and tag != whole.getheader("ETag")
    assert get(edge_server, "/files/plain.txt?lines=2-3")[0].getheader("ETag") == tag
    assert get(edge_server, "/files/plain.txt?lines=2-2")[0].getheader("ETag") != tag
    assert get(edge_server, "/files/plain.txt?lines=002-3")[0].getheader("ETag") == tag
    head, head_body = get(edge_server, "/files/plain.txt?lines=2-3", method="HEAD")
    assert head.status == 200 and head_body == b""
    assert head.getheader("Content-Length") == "10" and head.getheader("Mmapd-Lines") == "2-3"
    assert head.getheader("ETag") == tag
    assert get(edge_server, "/files/plain.txt?lines=2-3", headers={"If-None-Match": tag})[0].status == 304
    assert get(edge_server, "/files/plain.txt?lines=2-3", headers={"If-Match": tag})[0].status == 200
    assert get(edge_server, "/files/plain.txt?lines=2-3", headers={"If-Match": whole.getheader("ETag")})[0].status == 412
    assert get(edge_server, "/files/plain.txt?lines=2-3", headers={"If-None-Match": whole.getheader("ETag")})[0].status == 200


def test_missing_file_and_directory(edge_server):
    assert get(edge_server, "/files/nothing.txt?lines=1")[0].status == 404
    assert get(edge_server, "/files/?lines=1")[0].status == 200  # a listing: the parameter is ignored


def random_log(rng: random.Random, count: int) -> bytes:
    parts = []
    for _ in range(count):
        kind = rng.random()
        length = 0 if kind < 0.05 else rng.randint(1, 40) if kind < 0.95 else rng.randint(200, 3000)
        parts.append(bytes(rng.choice(b"abcdef \r") for _ in range(length)) + b"\n")
    return b"".join(parts)


def patch_append(server, name: str, offset: int, data: bytes):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("PATCH", f"/files/{name}", body=data,
                       headers={"Content-Range": f"bytes {offset}-{offset + len(data) - 1}/*"})
    response = connection.getresponse()
    response.read()
    connection.close()
    assert response.status == 204


def test_index_model_under_appends_and_rewrites(root: Path, start_mmapd):
    """Random appends (by PATCH and by this process), rewrites (in place by PATCH, by replacement,
    by truncation) and queries: every answer equals the Python model's. The file spans several
    1 MiB checkpoints, so the index is built, extended and dropped on the way."""
    rng = random.Random(22)
    path = root / "model.log"
    model = bytearray(random_log(rng, 6000) * 60)  # ~ 3 MiB
    path.write_bytes(model)
    server = start_mmapd(root, "--writable", "--line-index-bytes", "65536")
    for step in range(120):
        action = rng.random()
        if action < 0.25:
            chunk = random_log(rng, rng.randint(1, 2000))
            patch_append(server, "model.log", len(model), chunk)
            model += chunk
        elif action < 0.45:
            chunk = random_log(rng, rng.randint(1, 2000))
            with path.open("ab") as appender:
                appender.write(chunk)
            model += chunk
        elif action < 0.52:
            offset = rng.randrange(len(model))
            chunk = random_log(rng, 3)[: len(model) - offset]
            patch_append(server, "model.log", offset, chunk)  # a rewrite in place through mmapd
            model[offset:offset + len(chunk)] = chunk
        elif action < 0.56:
            model = bytearray(random_log(rng, rng.randint(1, 30000)))
            replacement = root / "model.tmp"
            replacement.write_bytes(model)
            os.rename(replacement, path)
        elif action < 0.59:
            cut = rng.randrange(len(model))
            os.truncate(path, cut)
            model = model[:cut]
            chunk = random_log(rng, rng.randint(1, 50))
            with path.open("ab") as appender:
                appender.write(chunk)
            model += chunk
        lines = reference_lines(bytes(model))
        for _ in range(3):
            first = rng.randint(1, len(lines) + 2)
            last = rng.randint(first, first + rng.choice([0, 5, 500, 50000]))
            response, body = get(server, f"/files/model.log?lines={first}-{last}")
            assert response.status == 200
            assert body == b"".join(lines[first - 1:last]), (step, first, last)
            if body:
                assert response.getheader("Mmapd-Lines") == f"{first}-{min(last, len(lines))}"
        count = rng.randint(1, 300)
        response, body = get(server, f"/files/model.log?lines=-{count}")
        assert body == b"".join(lines[-count:])
        assert response.getheader("Mmapd-Lines") == f"{max(1, len(lines) - count + 1)}-{len(lines)}", step
