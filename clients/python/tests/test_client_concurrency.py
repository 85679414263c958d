"""Several clients on one file: disjoint writers both land; If-Match turns a lost update into
PreconditionFailed; a reader sees another writer's flushed bytes once its max_age has passed
(at once with max_age=0)."""

from __future__ import annotations

import threading

import pytest

import mmapd_client


@pytest.fixture
def server(root, start_mmapd):
    return start_mmapd(root, "--writable")


def test_two_clients_writing_disjoint_ranges_both_land(root, server):
    size = 64 * 1024
    (root / "shared.bin").write_bytes(bytes(size))
    url = f"{server.url}/files/shared.bin"
    errors: list[BaseException] = []

    def writer(half: int, fill: int) -> None:
        try:
            with mmapd_client.open(url, max_pending_parts=16) as m:
                base = half * size // 2
                for chunk in range(0, size // 2, 512):
                    m[base + chunk:base + chunk + 256] = bytes([fill]) * 256
                    if chunk % 4096 == 0:
                        m.flush()
        except BaseException as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(0, 0xAA)), threading.Thread(target=writer, args=(1, 0xBB))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    expected = bytearray(size)
    for half, fill in ((0, 0xAA), (1, 0xBB)):
        base = half * size // 2
        for chunk in range(0, size // 2, 512):
            expected[base + chunk:base + chunk + 256] = bytes([fill]) * 256
    assert (root / "shared.bin").read_bytes() == bytes(expected)
    with mmapd_client.open(url, mmapd_client.ACCESS_READ) as reader:
        assert reader[:] == bytes(expected)


def test_if_match_refuses_a_write_over_someone_elses(root, server):
    (root / "doc.txt").write_bytes(b"version one\n")
    url = f"{server.url}/files/doc.txt"
    first = mmapd_client.open(url, if_match=True)
    second = mmapd_client.open(url, if_match=True)
    first[0:7] = b"VERSION"
    first.flush()
    first[8:11] = b"ONE"
    first.flush()  # its own ETag is the current one: accepted
    second[0:7] = b"overrun"
    with pytest.raises(mmapd_client.PreconditionFailed) as refused:
        second.flush()
    assert refused.value.status == 412
    assert (root / "doc.txt").read_bytes() == b"VERSION ONE\n"
    second.size()  # learns the current version
    second[0:1] = b"v"
    second.flush()
    assert (root / "doc.txt").read_bytes() == b"vERSION ONE\n"
    first.close()
    second.close()


def test_readers_see_flushed_writes_within_max_age(root, server):
    (root / "log.txt").write_bytes(b"aaaa")
    url = f"{server.url}/files/log.txt"
    eager = mmapd_client.open(url, mmapd_client.ACCESS_READ, max_age=0)
    patient = mmapd_client.open(url, mmapd_client.ACCESS_READ, max_age=3600)
    assert eager[0:4] == patient[0:4] == b"aaaa"
    with mmapd_client.open(url) as writer:
        writer[1:3] = b"bb"
        assert eager[0:4] == b"aaaa"  # not flushed yet: only the writer sees it
        assert writer[0:4] == b"abba"
    assert eager[0:4] == b"abba"  # flushed by close: a max_age=0 reader sees it at once
    assert patient[0:4] == b"aaaa"  # within its max_age the cached block is trusted
    assert patient.size() == 4  # any answer with the new ETag empties the cache
    assert patient[0:4] == b"abba"
    eager.close()
    patient.close()
