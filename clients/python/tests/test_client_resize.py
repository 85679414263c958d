"""`resize(n)` through `PATCH Content-Range: bytes */n`: truncates or extends with zeros, durably,
with mmap's exceptions for misuse."""

from __future__ import annotations

import pytest

import mmapd_client


@pytest.fixture
def remote(root, start_mmapd):
    (root / "data.bin").write_bytes(b"0123456789")
    server = start_mmapd(root, "--writable")
    url = f"{server.url}/files/data.bin"
    m = mmapd_client.open(url)
    yield m, url, root / "data.bin"
    m.close()


def test_resize_truncates_and_extends_with_zeros(remote):
    m, _, path = remote
    m[0:2] = b"ab"  # pending: flushed before the resize
    m.resize(4)
    assert path.read_bytes() == b"ab23" and len(m) == 4 and m[:] == b"ab23"
    m.resize(8)
    assert path.read_bytes() == b"ab23\0\0\0\0" and m[-1] == 0 and m.size() == 8
    with pytest.raises(ValueError):
        m.resize(-1)


def test_resize_is_refused_through_access_read(remote):
    _, url, path = remote
    with mmapd_client.open(url, mmapd_client.ACCESS_READ) as reader:
        with pytest.raises(TypeError):
            reader.resize(3)
    assert path.read_bytes() == b"0123456789"


def test_resize_with_if_match_refuses_a_stale_version(remote):
    m, url, path = remote
    with mmapd_client.open(url, if_match=True) as stale:
        m[0:1] = b"X"
        m.flush()
        with pytest.raises(mmapd_client.PreconditionFailed):
            stale.resize(2)
    assert path.read_bytes() == b"X123456789"
