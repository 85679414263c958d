"""GET /search/<dir>/ (tree search) against a real mmapd: the answer compared with an independent
reference walker (tree_reference.py) and with ripgrep where its semantics agree; paging, NDJSON,
limits, budgets, disconnects, bad parameters; context lines, line_numbers and If-Match on one file."""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from tree_reference import Options, search as reference

WORDS = [b"alpha", b"beta", b"gamma", b"delta", b"warn", b"x", b"haystack"]
RARE = [b"needle", b"Error", b"error", b"ERROR"]


def build_tree(root: Path, outside: Path) -> None:
    """Nested and hidden directories, binary files (NUL before and after byte 8,192), symlinks
    inside (to a file, to a directory before and after its target), a loop, escapes, a dangling
    link, 2,000 small files and one big one (mapped through the pool, not read)."""
    rng = random.Random(18)

    def line() -> bytes:
        words = [rng.choice(WORDS) for _ in range(rng.randint(0, 8))]
        if rng.random() < 0.1:
            words.insert(rng.randint(0, len(words)), rng.choice(RARE))
        return b" ".join(words) + b"\n"

    def text(lines: int) -> bytes:
        return b"".join(line() for _ in range(lines))

    plain = root / "plain"
    for d in range(20):
        sub = plain / f"d{d:02}" / ("deeper" if d % 3 == 0 else "")
        sub.mkdir(parents=True, exist_ok=True)
        for f in range(100):
            (sub / f"f{f:03}.{'log' if f % 4 == 0 else 'txt'}").write_bytes(text(rng.randint(0, 12)))
    # About 2 MB, so mapped through the pool rather than read; a few matches far apart.
    (plain / "big.log").write_bytes(b"".join(
        b"needle error haystack\n" if n % 9_000 == 4_321 else b"haystack alpha beta gamma delta warn x\n" for n in range(60_000)))
    (plain / ".hidden.txt").write_bytes(b"needle in a hidden file\n")
    (plain / ".git").mkdir()
    (plain / ".git" / "config").write_bytes(b"needle in a hidden directory\n")
    (plain / "crlf.txt").write_bytes(b"one needle\r\ntwo\r\nthree needle\r\n")
    (plain / "early-nul.bin").write_bytes(b"needle\0" + text(10))
    (plain / "late-nul.bin").write_bytes(b"needle " + b"filler " * 1200 + b"\0needle\n")  # NUL after byte 8,192
    (plain / "Upper.txt").write_bytes(b"sorts before lowercase: needle\n")
    (plain / "a-b.txt").write_bytes(b"needle\n")
    (plain / "a").mkdir()
    (plain / "a" / "inner.txt").write_bytes(b"needle a/inner\n")
    (plain / "a.txt").write_bytes(b"needle a.txt\n")
    (plain / "empty.txt").write_bytes(b"")

    links = root / "links"
    (links / "target").mkdir(parents=True)
    (links / "target" / "t.txt").write_bytes(b"needle in target\n")
    os.symlink("../plain/a.txt", links / "file-link.txt")
    os.symlink("target", links / "after-target")         # walked after target/: not again
    os.symlink("target", links / "a-before-target")      # walked before target/: target/ is not walked again
    os.symlink("..", links / "loop")                     # the root again: already walked
    os.symlink("../../outside/secret.txt", links / "escape.txt")
    os.symlink(str(outside / "secret.txt"), links / "absolute.txt")
    os.symlink("missing.txt", links / "dangling.txt")
    outside.mkdir(exist_ok=True)
    (outside / "secret.txt").write_bytes(b"needle outside the root\n")


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("tree")
    root = base / "root"
    root.mkdir()
    build_tree(root, base / "outside")
    return root


@pytest.fixture(scope="module")
def server(tree, tmp_path_factory):
    from mmapd_process import MmapdProcess
    process = MmapdProcess.start(tree, [], log_dir=tmp_path_factory.mktemp("logs"))
    yield process
    process.stop()


def get(server, path: str, pairs, headers=None) -> tuple[int, dict, bytes]:
    url = f"{server.url}{path}?{urllib.parse.urlencode(pairs)}"
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def answer(server, path: str, pairs) -> dict:
    status, _, body = get(server, path, pairs)
    assert status == 200, body
    return json.loads(body)


def unlimited(server, path, options: Options, extra=()) -> dict:
    return answer(server, path, options.query() + [("limit", "10000"), *extra])


def assert_agrees(got: dict, expected: dict) -> None:
    for key in ("files_searched", "files_matched", "bytes_searched", "skipped", "count"):
        assert got[key] == expected[key], key
    assert got["truncated"] is False and got["next"] is None
    assert [(m["path"], m["offset"], m["length"], m["line"]) for m in got["matches"]] == \
        [(m["path"], m["offset"], m["length"], m["line"]) for m in expected["matches"]]
    for mine, theirs in zip(got["matches"], expected["matches"]):
        if theirs["text"] is not None:
            assert mine["text"] == theirs["text"]


CASES = [
    Options(q=b"needle"),
    Options(q=b"needle", hidden=True),
    Options(q=b"needle", binary="text"),
    Options(q=b"needle", hidden=True, binary="text"),
    Options(q=b"ERROR", icase=True),
    Options(q=rb"err(or|OR)\b", regex=True),
    Options(q=rb"(?m)^needle", regex=True, hidden=True),
    Options(q=b"needle", globs=[b"**/*.txt"]),
    Options(q=b"needle", globs=[b"*.txt"]),
    Options(q=b"needle", globs=[b"plain/d0?/**", b"links/**"]),
    Options(q=b"error", globs=[b"**/f0[0-4]?.log"], excludes=[b"plain/d1*"]),
    Options(q=b"needle", excludes=[b"**/target"], hidden=True),
    Options(q=b"needle", excludes=[b"plain/**"], hidden=True, binary="text"),
    Options(q=b"needle", globs=[b"**/*.txt"], excludes=[b"**/a*"]),
    Options(q=b"needle", globs=[b"**/[!a-z]*"]),
]


@pytest.mark.parametrize("index", range(len(CASES)))
def test_whole_tree_agrees_with_the_reference_walker(server, tree, index):
    options = CASES[index]
    assert_agrees(unlimited(server, "/search/", options), reference(tree, "", options))


@pytest.mark.parametrize("directory", ["plain", "links", "plain/d03"])
def test_a_subdirectory_agrees_with_the_reference_walker(server, tree, directory):
    options = Options(q=b"needle", hidden=True, binary="text")
    got = unlimited(server, f"/search/{directory}/", options)
    assert got["path"] == directory + "/"
    assert_agrees(got, reference(tree, directory, options))


def test_walk_rules_on_symlinks(server, tree):
    # Globs are relative to the searched directory: `loop` is links/loop (the root, not yet
    # walked in a search of links/, so it would be walked through the link).
    got = unlimited(server, "/search/links/", Options(q=b"needle", excludes=[b"loop"]))
    paths = [m["path"] for m in got["matches"]]
    # The directory is searched once, at its first place in walk order: through the link that
    # sorts before it. Escapes (relative and absolute) and the dangling link are skipped.
    assert paths == ["links/a-before-target/t.txt", "links/file-link.txt"]
    assert got["skipped"] == 3
    # From the root, the loop leads back to a directory already walked: nothing twice.
    whole = unlimited(server, "/search/", Options(q=b"needle"))
    assert not any(m["path"].startswith("links/loop/") for m in whole["matches"])
    assert "needle outside the root" not in json.dumps(got)


RG_CASES = [
    (Options(q=b"needle", hidden=True, binary="text"), ["-F", "needle"]),
    (Options(q=b"error", icase=True, hidden=True, binary="text"), ["-i", "(?-u)error"]),
    (Options(q=rb"alpha|gamma|warn|haystack", regex=True, hidden=True, binary="text"), ["(?-u)alpha|gamma|warn|haystack"]),
    (Options(q=rb"\w{5} \w{4,5}", regex=True, hidden=True, binary="text"), [r"(?-u)\w{5} \w{4,5}"]),
]


@pytest.mark.skipif(shutil.which("rg") is None, reason="ripgrep is not installed (make python-test installs it)")
@pytest.mark.parametrize("index", range(len(RG_CASES)))
def test_counts_agree_with_ripgrep(server, tree, index):
    """limit=0 `counts` against `rg --count-matches` on the tree without symlinks, with the
    flags that mean the same: --no-ignore --hidden (hidden=true), -a (binary=text)."""
    options, pattern = RG_CASES[index]
    got = answer(server, "/search/plain/", options.query() + [("limit", "0")])
    result = subprocess.run(["rg", "--count-matches", "--no-ignore", "--hidden", "-a", "--no-messages", *pattern[:-1],
                             "-e", pattern[-1], "plain"], cwd=tree, capture_output=True, check=False)
    assert result.returncode in (0, 1), result.stderr
    expected = {}
    for line in result.stdout.decode().splitlines():
        path, count = line.rsplit(":", 1)
        expected[path] = int(count)
    assert {c["path"]: c["count"] for c in got["counts"]} == expected
    assert got["count"] == sum(expected.values())
    assert got["matches"] == []
    assert [c["path"] for c in got["counts"]] == sorted(expected, key=lambda p: p.encode().replace(b"/", b"\0"))


@pytest.mark.parametrize("limit", [1, 7, 100])
def test_pages_concatenate_to_the_unlimited_answer(server, tree, limit):
    options = Options(q=rb"needle|error", regex=True, hidden=True)
    whole = unlimited(server, "/search/", options)
    pages, cursor = [], None
    remaining = whole["count"]
    for _ in range(1000):
        page = answer(server, "/search/", options.query() + [("limit", str(limit))] + ([("cursor", cursor)] if cursor else []))
        assert page["count"] == remaining
        assert len(page["matches"]) <= limit
        pages += page["matches"]
        remaining -= len(page["matches"])
        cursor = page["next"]
        assert page["truncated"] is (cursor is not None)
        if cursor is None:
            break
    assert pages == whole["matches"]


def test_limit_zero_follows_the_single_file_rule(server, tree):
    options = Options(q=b"needle")
    counted = answer(server, "/search/", options.query() + [("limit", "0")])
    whole = unlimited(server, "/search/", options)
    assert counted["count"] == whole["count"] and counted["truncated"] is True and counted["matches"] == []
    first = answer(server, "/search/", options.query() + [("limit", "1"), ("cursor", counted["next"])])
    assert first["matches"] == whole["matches"][:1]
    nothing = answer(server, "/search/", Options(q=b"no such text anywhere").query() + [("limit", "0")])
    assert (nothing["count"], nothing["truncated"], nothing["next"], nothing["counts"]) == (0, False, None, [])


def test_ndjson_streams_the_same_answer(server, tree):
    options = Options(q=b"error", icase=True, binary="text")
    whole = unlimited(server, "/search/", options)
    status, headers, body = get(server, "/search/", options.query() + [("limit", "10000")],
                                {"Accept": "application/x-ndjson"})
    assert status == 200 and headers["Content-Type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert lines[:-1] == whole["matches"]
    assert lines[-1] == {k: v for k, v in whole.items() if k != "matches"}
    # NDJSON has no result limit: every match, in one answer.
    status, _, body = get(server, "/search/", options.query() + [("limit", "100000000")], {"Accept": "application/x-ndjson"})
    assert status == 200 and len(body.decode().splitlines()) == whole["count"] + 1


def test_context_lines_and_line_numbers_in_a_tree(server, tree):
    options = Options(q=b"three")
    got = answer(server, "/search/plain/", options.query() + [("before", "1"), ("after", "2"), ("line_numbers", "false")])
    match = got["matches"][0]
    assert match == {"path": "plain/crlf.txt", "offset": 17, "length": 5, "text": "three needle\r", "before": ["two\r"], "after": []}


def test_bad_parameters_are_400(server, tree):
    cursor = answer(server, "/search/", [("q", "needle"), ("limit", "1")])["next"]
    for pairs in ([("q", "x"), ("start", "1")], [("q", "x"), ("end", "1")], [("q", "x"), ("reverse", "true")],
                  [("q", "x"), ("binary", "maybe")], [("q", "x"), ("hidden", "yes")], [("q", "x"), ("cursor", "zz")],
                  [("q", "x"), ("cursor", cursor)], [("q", "needle"), ("cursor", cursor + "00")],
                  [("q", "needle"), ("cursor", cursor), ("hidden", "true")], [("q", "x"), ("glob", "[a")],
                  [("q", "x"), ("glob", "")], [("q", "x"), ("exclude", "a/[z-a]")], [("q", "x"), ("before", "101")],
                  [("q", "x"), ("after", "-1")], [("q", "x"), ("line_numbers", "maybe")], [("q", "(")] + [("regex", "1")],
                  [("q", "")], []):
        status, headers, body = get(server, "/search/", pairs)
        assert status == 400, (pairs, body)
        assert headers["Content-Type"] == "application/problem+json"
    # The cursor of this very search continues it.
    assert answer(server, "/search/", [("q", "needle"), ("limit", "1"), ("cursor", cursor)])["count"] >= 1


def test_paths_redirect_and_missing_directories(server, tree):
    status, _, _ = get(server, "/search/plain/a.txt/", [("q", "x")])
    assert status == 404
    status, _, _ = get(server, "/search/nowhere/", [("q", "x")])
    assert status == 404
    status, _, _ = get(server, "/search/links/loop/../../", [("q", "x")])
    assert status == 404
    connection = socket.create_connection(("127.0.0.1", server.port), timeout=30)
    connection.sendall(b"GET /search/plain?q=x&limit=1 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    head = connection.makefile("rb").read().split(b"\r\n\r\n")[0].decode()
    assert head.startswith("HTTP/1.1 301") and "Location: /search/plain/?q=x&limit=1" in head


def test_the_file_limit_cuts_and_continues(tree, start_mmapd):
    server = start_mmapd(tree, "--max-search-files", "150")
    options = Options(q=b"needle|error", regex=True)
    full = start_mmapd(tree)
    whole = unlimited(full, "/search/", options)
    gathered, cursor, pages = [], None, 0
    while True:
        page = answer(server, "/search/", options.query() + [("limit", "10000")] + ([("cursor", cursor)] if cursor else []))
        pages += 1
        assert page["files_searched"] <= 150
        gathered += page["matches"]
        cursor = page["next"]
        if cursor is None:
            assert page["count"] is not None
            break
        assert page["count"] is None and page["truncated"] is True
    assert pages > 10
    assert gathered == whole["matches"]


def test_the_time_budget_cuts_and_continues(tree, start_mmapd):
    """With a budget of 1 ms, pages are cut (count null, a cursor), yet following them gives
    exactly the unlimited answer."""
    server = start_mmapd(tree, "--search-timeout-milliseconds", "1")
    options = Options(q=b"needle", globs=[b"d0[01]/**", b"*.txt"])
    whole = unlimited(start_mmapd(tree), "/search/plain/", options)
    gathered, cursor, cut = [], None, 0
    for _ in range(20_000):
        status, _, body = get(server, "/search/plain/", options.query() + [("limit", "10000")] + ([("cursor", cursor)] if cursor else []))
        assert status == 200, body
        page = json.loads(body)
        gathered += page["matches"]
        cursor = page["next"]
        if page["count"] is None:
            cut += 1
            assert page["truncated"] is True and cursor is not None
        if cursor is None:
            break
    assert cut > 0
    assert gathered == whole["matches"]


def process_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def search_durations(server) -> int:
    with urllib.request.urlopen(f"{server.url}/metrics", timeout=30) as response:
        text = response.read().decode()
    found = re.search(r"^mmapd_search_duration_seconds_count\S* (\d+)", text, re.M)
    return int(found.group(1)) if found else 0


def test_a_client_that_leaves_stops_its_ndjson_tree_search(tmp_path, start_mmapd):
    """A stream far larger than every buffer, read a little, then abandoned: the search ends (its
    duration is recorded) although its budget would let it run for minutes, and the server
    stays idle afterwards."""
    root = tmp_path / "many"
    root.mkdir()
    for index in range(64):
        (root / f"{index:02}.txt").write_bytes(b"x\n" * 200_000)
    server = start_mmapd(root, "--search-timeout-milliseconds", "600000")
    before = search_durations(server)
    connection = socket.socket()
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    connection.settimeout(30)
    connection.connect(("127.0.0.1", server.port))
    connection.sendall(b"GET /search/?q=x&limit=100000000 HTTP/1.1\r\nHost: localhost\r\n"
                       b"Accept: application/x-ndjson\r\n\r\n")
    assert b"200 OK" in connection.recv(4096)
    connection.close()
    deadline = time.monotonic() + 60
    while search_durations(server) == before:
        assert time.monotonic() < deadline, "the search went on after its client left"
        time.sleep(0.05)
    # Nothing keeps running: the CPU time of the process stops moving.
    settled = process_cpu_seconds(server.process.pid)
    time.sleep(1)
    assert process_cpu_seconds(server.process.pid) - settled < 0.5


# ---- One file: context lines, line_numbers, ETag / If-Match --------------------------------

def test_single_file_context_lines(server, tree):
    got = answer(server, "/search/plain/crlf.txt", [("q", "needle"), ("before", "1"), ("after", "1")])
    assert got["matches"] == [
        {"offset": 4, "length": 6, "line": 1, "text": "one needle\r", "before": [], "after": ["two\r"]},
        {"offset": 23, "length": 6, "line": 3, "text": "three needle\r", "before": ["two\r"], "after": []},
    ]
    only_after = answer(server, "/search/plain/crlf.txt", [("q", "two"), ("after", "5"), ("before", "0")])
    assert only_after["matches"] == [{"offset": 12, "length": 3, "line": 2, "text": "two\r", "after": ["three needle\r"]}]
    # A match spanning lines: context before its first line and after its last.
    spanning = answer(server, "/search/plain/crlf.txt", [("q", "two\r\nthree"), ("before", "3"), ("after", "3")])
    assert spanning["matches"][0]["before"] == ["one needle\r"] and spanning["matches"][0]["after"] == []
    for value in ("101", "-1", "x"):
        assert get(server, "/search/plain/crlf.txt", [("q", "two"), ("before", value)])[0] == 400


def test_single_file_line_numbers_false(server, tree):
    got = answer(server, "/search/plain/big.log", [("q", "haystack"), ("limit", "3"), ("line_numbers", "false")])
    assert got["matches"] and all("line" not in m for m in got["matches"])
    with_lines = answer(server, "/search/plain/big.log", [("q", "haystack"), ("limit", "3")])
    assert [{k: v for k, v in m.items() if k != "line"} for m in with_lines["matches"]] == got["matches"]


def test_single_file_etag_and_if_match(server, tree):
    status, headers, _ = get(server, "/search/plain/a.txt", [("q", "needle")])
    etag = headers["ETag"]
    with urllib.request.urlopen(f"{server.url}/files/plain/a.txt", timeout=30) as response:
        assert response.headers["ETag"] == etag
    assert get(server, "/search/plain/a.txt", [("q", "needle")], {"If-Match": etag})[0] == 200
    assert get(server, "/search/plain/a.txt", [("q", "needle")], {"If-Match": "*"})[0] == 200
    status, headers, body = get(server, "/search/plain/a.txt", [("q", "needle")], {"If-Match": '"stale"'})
    assert status == 412 and headers["ETag"] == etag and headers["Content-Type"] == "application/problem+json"
    status, headers, _ = get(server, "/search/plain/a.txt", [("q", "needle")], {"Accept": "application/x-ndjson"})
    assert headers["ETag"] == etag


def test_single_file_if_match_after_a_change(tmp_path, start_mmapd):
    root = tmp_path / "changing"
    root.mkdir()
    (root / "f.txt").write_bytes(b"needle one\n")
    server = start_mmapd(root)
    _, headers, _ = get(server, "/search/f.txt", [("q", "needle")])
    old = headers["ETag"]
    replacement = root / "f.new"
    replacement.write_bytes(b"needle two\n")
    os.replace(replacement, root / "f.txt")
    status, headers, _ = get(server, "/search/f.txt", [("q", "needle")], {"If-Match": old})
    assert status == 412 and headers["ETag"] != old
    assert get(server, "/search/f.txt", [("q", "needle")], {"If-Match": headers["ETag"]})[0] == 200
