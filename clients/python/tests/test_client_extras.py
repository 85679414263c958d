"""The extras: finditer over the server's search (checked against re.finditer, across pages),
and the io.RawIOBase adapter under csv, zipfile (moving only the member it reads) and pandas."""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile

import pandas

import mmapd_client
from counting_proxy import CountingProxy


def test_finditer_matches_re_finditer_across_pages(root, mmapd):
    rng = random.Random(7)
    words = [b"alpha", b"beta", b"gamma", b"delta", b"\n"]
    data = b" ".join(rng.choice(words) for _ in range(3000))
    (root / "words.txt").write_bytes(data)
    pattern = rb"\b[a-z]{4}\b"
    with mmapd_client.open(f"{mmapd.url}/files/words.txt", mmapd_client.ACCESS_READ) as m:
        found = list(m.finditer(pattern, page_size=7))
        expected = list(re.finditer(pattern, data))
        assert [match.span() for match in found] == [match.span() for match in expected]
        assert [match.line for match in found] == [data.count(b"\n", 0, match.start()) + 1 for match in expected]
        first = found[0]
        line_start = data.rfind(b"\n", 0, first.offset) + 1
        assert first.text == data[line_start:data.index(b"\n", first.offset)].decode()
        windowed = list(m.finditer(b"gamma", regex=False, start=-2000, end=-10))
        window = re.compile(b"gamma").finditer(data, len(data) - 2000, len(data) - 10)
        assert [match.offset for match in windowed] == [match.start() for match in window]
        assert sum(1 for _ in m.finditer(b"BETA", regex=False, icase=True)) == data.count(b"beta")


def test_csv_reads_through_the_raw_io_adapter(root, mmapd):
    rows = [["id", "name", "score"]] + [[str(i), f"name {i}", str(i * 7 % 100)] for i in range(2000)]
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    (root / "table.csv").write_text(buffer.getvalue())
    with mmapd_client.open_file(f"{mmapd.url}/files/table.csv") as raw:
        assert list(csv.reader(io.TextIOWrapper(raw, newline=""))) == rows


def test_pandas_reads_through_the_raw_io_adapter(root, mmapd):
    (root / "table.csv").write_text("city,population\n" + "".join(f"c{i},{i * 1000}\n" for i in range(500)))
    with mmapd_client.open_file(f"{mmapd.url}/files/table.csv") as handle:
        frame = pandas.read_csv(handle)
    assert list(frame.columns) == ["city", "population"]
    assert len(frame) == 500 and int(frame["population"].sum()) == 1000 * sum(range(500))


def test_zipfile_reads_one_member_without_the_rest(root, start_mmapd):
    rng = random.Random(3)
    members = {f"part-{i}.bin": rng.randbytes(100_000) for i in range(20)}
    with zipfile.ZipFile(root / "archive.zip", "w", zipfile.ZIP_STORED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    proxy = CountingProxy(start_mmapd(root).port)
    try:
        with mmapd_client.open_file(proxy.url("/files/archive.zip")) as handle:
            with zipfile.ZipFile(handle) as archive:
                assert archive.read("part-13.bin") == members["part-13.bin"]
        assert proxy.received < 400_000, proxy.received  # the archive is 2 MB
        assert proxy.connections == 1
    finally:
        proxy.close()
