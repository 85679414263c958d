"""HTTP answers as Python exceptions: OSError subclasses carrying the problem detail."""

from __future__ import annotations

import errno
import gc
import mmap
import os
import subprocess
import warnings
from pathlib import Path

import pytest

import mmapd_client

REPO = Path(__file__).resolve().parents[3]


def test_missing_file_is_file_not_found(root, mmapd):
    with pytest.raises(FileNotFoundError) as missing:
        mmapd_client.open(f"{mmapd.url}/files/nothing.txt")
    assert isinstance(missing.value, mmapd_client.NotFound)
    assert missing.value.errno == errno.ENOENT and missing.value.status == 404


def test_writing_to_a_read_only_server_is_a_permission_error(root, mmapd):
    (root / "a.txt").write_bytes(b"hello")
    m = mmapd_client.open(f"{mmapd.url}/files/a.txt")
    m[0:1] = b"H"
    with pytest.raises(PermissionError) as refused:
        m.flush()
    assert isinstance(refused.value, mmapd_client.NotWritable) and refused.value.status == 405
    assert refused.value.detail
    assert m[0:5] == b"hello"  # a refused write is dropped, not kept
    m.close()
    assert (root / "a.txt").read_bytes() == b"hello"


def test_the_token_is_sent_on_every_request(root, start_mmapd):
    (root / "a.txt").write_bytes(b"hello")
    server = start_mmapd(root, "--writable", "--token", "s3cret")
    url = f"{server.url}/files/a.txt"
    anonymous = mmapd_client.open(url)
    anonymous[0:1] = b"H"
    with pytest.raises(mmapd_client.Unauthorized) as refused:
        anonymous.flush()
    assert refused.value.status == 401 and isinstance(refused.value, PermissionError)
    anonymous.close()
    with mmapd_client.open(url, token="s3cret") as m:
        m[0:1] = b"H"
    assert (root / "a.txt").read_bytes() == b"Hello"


def test_read_tokens_read_and_cannot_write(root, start_mmapd):
    (root / "a.txt").write_bytes(b"hello")
    server = start_mmapd(root, "--writable", "--token", "writer", "--read-token", "reader")
    url = f"{server.url}/files/a.txt"
    with pytest.raises(mmapd_client.Unauthorized):
        mmapd_client.open(url)
    m = mmapd_client.open(url, token="reader")
    assert m[0:5] == b"hello" and m.find(b"l") == 2
    m[0:1] = b"H"
    with pytest.raises(mmapd_client.Forbidden) as refused:
        m.flush()
    assert refused.value.status == 403 and isinstance(refused.value, PermissionError)
    m.close()
    with mmapd_client.open(url, token="writer") as writer:
        writer[0:1] = b"H"
    assert (root / "a.txt").read_bytes() == b"Hello"


def test_a_bad_pattern_is_a_value_error_with_the_servers_reason(root, mmapd):
    (root / "a.txt").write_bytes(b"hello")
    with mmapd_client.open(f"{mmapd.url}/files/a.txt", mmapd_client.ACCESS_READ) as m:
        with pytest.raises(ValueError) as bad:
            list(m.finditer(b"(unclosed"))
    assert isinstance(bad.value, mmapd_client.BadRequest) and "parenthesis" in bad.value.detail


def test_urls_that_name_no_file_are_refused(mmapd):
    for url in ("ftp://host/files/a", f"{mmapd.url}/elsewhere/a", f"{mmapd.url}/files/dir/"):
        with pytest.raises(ValueError):
            mmapd_client.open(url)


def test_copy_on_write_access_is_refused(root, mmapd):
    (root / "a.txt").write_bytes(b"hello")
    with pytest.raises(ValueError):
        mmapd_client.open(f"{mmapd.url}/files/a.txt", mmap.ACCESS_COPY)


def test_an_object_dropped_with_unflushed_writes_warns(root, start_mmapd):
    (root / "a.txt").write_bytes(b"hello")
    server = start_mmapd(root, "--writable")
    m = mmapd_client.open(f"{server.url}/files/a.txt")
    m[0:1] = b"H"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del m
        gc.collect()
    assert any(issubclass(w.category, ResourceWarning) and "unflushed" in str(w.message) for w in caught)
    assert (root / "a.txt").read_bytes() == b"hello"


def test_a_signed_link_reads_searches_and_views_without_a_token(root, tmp_path, start_mmapd):
    (root / "a.txt").write_bytes(b"hello signed\nworld\n")
    key = tmp_path / "signing.key"
    key.write_bytes(os.urandom(40))
    key.chmod(0o600)
    server = start_mmapd(root, "--read-token", "reader", "--signing-key-file", str(key))
    binary = os.environ.get("MMAPD_BIN", str(REPO / ".build/debug/mmapd"))
    link = subprocess.run([binary, "sign", "a.txt", "--signing-key-file", str(key), "--root", str(root)],
                          check=True, capture_output=True, text=True).stdout.strip()
    with pytest.raises(mmapd_client.Unauthorized):
        mmapd_client.open(f"{server.url}/files/a.txt")
    with mmapd_client.open(server.url + link, mmapd_client.ACCESS_READ) as m:
        assert m[0:5] == b"hello" and m.find(b"world", 0) == 13
        assert [match.line for match in m.finditer(b"o")] == [1, 2]
        assert list(m.lines(2)) == [b"world\n"]
