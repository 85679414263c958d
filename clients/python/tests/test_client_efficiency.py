"""What the client moves over the wire, counted by a relay in front of the server: a 5 GiB
(sparse) file's length, last bytes and a windowed find cost a few kilobytes; every call of one
object shares one kept-alive connection, which the client re-opens when the server drops it."""

from __future__ import annotations

import pytest

import mmapd_client
from counting_proxy import CountingProxy

GIB = 1 << 30


@pytest.fixture
def proxied(root, start_mmapd):
    server = start_mmapd(root, "--writable")
    proxy = CountingProxy(server.port)
    yield proxy
    proxy.close()


def test_a_5_gib_file_answers_len_tail_and_windowed_find_in_kilobytes(root, proxied):
    size = 5 * GIB
    with open(root / "huge.bin", "wb") as huge:
        huge.truncate(size)
        huge.seek(size - 100)
        huge.write(b"the marker near the end\n")
    m = mmapd_client.open(proxied.url("/files/huge.bin"), mmapd_client.ACCESS_READ)
    assert len(m) == size
    assert m[-100:-77] == b"the marker near the end"
    assert m[size - 1] == 0
    assert m.find(b"marker", -(1 << 20)) == size - 96
    assert m.rfind(b"\0", -(1 << 20), size - 100) == size - 101
    m.seek(size - 100)
    assert m.readline() == b"the marker near the end\n"
    assert m.find(b"absent", size - (1 << 20), size) == -1
    m.close()
    assert proxied.received < 300_000, proxied.received  # one 64 KiB block, JSON answers, headers
    assert proxied.connections == 1


def test_slices_share_one_connection_and_small_reads_hit_the_block_cache(root, proxied):
    (root / "data.bin").write_bytes(bytes(range(256)) * 1024)  # 256 KiB
    m = mmapd_client.open(proxied.url("/files/data.bin"), mmapd_client.ACCESS_READ, max_age=60)
    for i in range(1000):
        assert m[i] == i % 256
    after_small_reads = proxied.received
    assert after_small_reads < 70_000, after_small_reads  # the first 64 KiB block, fetched once
    assert m[1000:200_000] == (bytes(range(256)) * 1024)[1000:200_000]  # one range, not blocks
    assert proxied.received - after_small_reads < 200_000 + 2_000
    assert proxied.connections == 1
    m.close()


def test_a_dropped_connection_is_reopened(root, proxied):
    (root / "data.bin").write_bytes(b"0123456789" * 10)
    m = mmapd_client.open(proxied.url("/files/data.bin"), max_age=0)
    assert m[0:4] == b"0123"
    proxied.drop_connections()
    assert m[10:14] == b"0123"
    m[0:2] = b"ab"
    proxied.drop_connections()
    m.flush()
    assert (root / "data.bin").read_bytes()[:4] == b"ab23"
    assert proxied.connections == 3
    m.close()


def test_writes_before_a_flush_travel_as_one_patch(root, proxied):
    (root / "data.bin").write_bytes(bytes(1000))
    m = mmapd_client.open(proxied.url("/files/data.bin"))
    for offset in range(0, 1000, 10):  # 100 separate runs
        m[offset] = 1
    m.write(b"xyz")  # position 0: merges with the run at 0
    assert (root / "data.bin").read_bytes() == bytes(1000)  # nothing sent yet
    assert b"PATCH " not in proxied.sent
    m.flush()
    assert proxied.sent.count(b"PATCH /files/data.bin HTTP/1.1") == 1
    assert b"multipart/byteranges" in proxied.sent
    expected = bytearray(1000)
    expected[0:1000:10] = b"\1" * 100
    expected[0:3] = b"xyz"
    assert (root / "data.bin").read_bytes() == bytes(expected)
    m.close()
