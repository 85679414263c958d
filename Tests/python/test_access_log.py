"""The access log with real clients (issue 17 item 4): each line has the Range header and the
User-Agent (cut to --log-header-bytes), the bytes the client really took (`bytes`, status line
and headers included) beside the length the answer announced (`length`), and `aborted` for every
client that leaves early: curl --max-filesize, a socket closed mid-body, and ffmpeg, which reads
the head of a media file and resets the connection to seek, usually after the whole answer was
already in the socket buffers (so libmicrohttpd itself reported success)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

BIG = 64 << 20  # sparse: no disk, bigger than any socket buffer


def log_lines(server, count: int, predicate=lambda line: True, timeout: float = 30) -> list[dict[str, str]]:
    """The access-log lines on the server's standard error that satisfy `predicate`, once there
    are `count` of them (lines are written when the client's share is known: at its next request,
    its close, or within about two seconds after the last acknowledgement)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [parse(line) for line in server.stderr_path.read_text().splitlines() if line.endswith("[Mmapd] request")]
        matching = [line for line in lines if predicate(line)]
        if len(matching) >= count or time.monotonic() > deadline:
            assert len(matching) >= count, f"{len(matching)} of {count} lines; log:\n" + server.stderr_path.read_text()
            return matching
        time.sleep(0.05)  # polling a file for an event, with a deadline


def parse(line: str) -> dict[str, str]:
    """`key=value` fields of a logfmt-like line (values run to the next ` key=`)."""
    body = line.split(" mmapd: ", 1)[1].removesuffix(" [Mmapd] request")
    fields: dict[str, str] = {}
    key = None
    for word in body.split(" "):
        name, equals, value = word.partition("=")
        if equals and name.isidentifier():
            key = name
            fields[key] = value
        elif key is not None:
            fields[key] += " " + word
    return fields


@pytest.fixture
def server(root: Path, start_mmapd):
    with (root / "big.bin").open("wb") as out:
        out.truncate(BIG)
    (root / "small.txt").write_bytes(b"x" * 5000)
    return start_mmapd(root, "--log-level", "info", "--log-header-bytes", "64")


def test_a_complete_download_logs_what_was_sent(server):
    with urllib.request.urlopen(urllib.request.Request(f"{server.url}/files/small.txt",
                                                       headers={"User-Agent": "probe/1.0", "Range": "bytes=10-99"})) as answer:
        assert len(answer.read()) == 90
    line = log_lines(server, 1, lambda l: l["target"] == "/files/small.txt")[0]
    assert line["status"] == "206" and line["length"] == "90"
    assert 90 < int(line["bytes"]) < 90 + 1000  # the body and the header
    assert line["range"] == "bytes=10-99" and line["agent"] == "probe/1.0"
    assert "aborted" not in line


def test_curl_max_filesize_is_aborted_with_the_bytes_it_took(server):
    curl = shutil.which("curl") or pytest.skip("no curl")
    result = subprocess.run([curl, "-s", "-o", "/dev/null", "--max-filesize", "1000", f"{server.url}/files/big.bin"])
    assert result.returncode == 63  # curl: maximum file size exceeded
    line = log_lines(server, 1, lambda l: l["target"] == "/files/big.bin")[0]
    assert line["length"] == str(BIG) and "aborted" in line
    assert int(line["bytes"]) < BIG // 4
    assert line["agent"].startswith("curl/")


def test_a_socket_closed_mid_body_is_aborted(server):
    connection = socket.create_connection(("127.0.0.1", server.port))
    connection.sendall(b"GET /files/big.bin HTTP/1.1\r\nHost: x\r\nUser-Agent: " + b"A" * 300 + b"\r\n\r\n")
    received = 0
    while received < 100_000:
        received += len(connection.recv(65536))
    connection.close()  # with bytes unread: a reset
    line = log_lines(server, 1, lambda l: l["target"] == "/files/big.bin")[0]
    assert "aborted" in line and int(line["bytes"]) < BIG // 4
    # The User-Agent is cut to --log-header-bytes, with its real length.
    assert line["agent"] == "A" * 64 + "…(300 bytes)"


def test_a_reset_after_the_answer_was_buffered_is_aborted(server):
    """The answer (5,000 bytes) fits in the socket buffers: libmicrohttpd reports it complete at
    once, and only the client's reset, with the bytes unread, says otherwise."""
    connection = socket.create_connection(("127.0.0.1", server.port))
    connection.sendall(b"GET /files/small.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert connection.recv(10).startswith(b"HTTP/1.1")
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    connection.close()
    line = log_lines(server, 1, lambda l: l["target"] == "/files/small.txt")[0]
    assert line["aborted"] == "client reset"


def test_a_long_range_header_is_cut(server):
    ranges = ",".join(f"{n * 10}-{n * 10 + 1}" for n in range(200))
    with urllib.request.urlopen(urllib.request.Request(f"{server.url}/files/small.txt",
                                                       headers={"Range": f"bytes={ranges}"})) as answer:
        answer.read()
    line = log_lines(server, 1, lambda l: l["target"] == "/files/small.txt")[0]
    header = f"bytes={ranges}"
    assert line["range"] == header[:64] + f"…({len(header)} bytes)"
    assert "aborted" not in line


def test_ffmpeg_seeking_in_a_media_file_is_flagged(root: Path, start_mmapd, tmp_path: Path):
    ffmpeg = shutil.which("ffmpeg") or pytest.skip("no ffmpeg")
    ffprobe = shutil.which("ffprobe") or pytest.skip("no ffprobe")
    # Ten seconds of test pattern and tone; the MP4 index (moov) at the end, as ffmpeg writes it,
    # so a reader opens the file, then seeks to its end and back.
    clip = root / "clip.mp4"
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc=size=320x240:rate=25", "-f", "lavfi",
                    "-i", "sine=frequency=440", "-t", "10", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                    "-shortest", str(clip)], check=True, timeout=120)
    size = clip.stat().st_size
    server = start_mmapd(root, "--log-level", "info")
    probed = subprocess.run([ffprobe, "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                             f"{server.url}/files/clip.mp4"], capture_output=True, text=True, timeout=60, check=True)
    assert abs(float(probed.stdout) - 10) < 0.5
    # Decode one second from the middle: a seek.
    subprocess.run([ffmpeg, "-v", "error", "-ss", "5", "-i", f"{server.url}/files/clip.mp4", "-t", "1", "-f", "null", "-"],
                   check=True, timeout=60)
    requests = log_lines(server, 4, lambda l: l["target"] == "/files/clip.mp4")
    aborted = [line for line in requests if "aborted" in line]
    assert aborted, requests
    for line in aborted:
        assert int(line["bytes"]) < int(line["length"]) + 1000
        assert line["agent"].startswith("Lavf/") and line["range"].startswith("bytes=")
    # The requests that the reader did take whole (the index at the end) are not flagged.
    index = [line for line in requests if int(line["length"]) < size // 4]
    assert index and all("aborted" not in line for line in index), requests
