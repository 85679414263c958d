"""`lines(a, b)` over the server's `?lines=` view: the same lines as slicing the file's lines
(sed -n 'a,bp'), with what the server says it served."""

from __future__ import annotations

import pytest

import mmapd_client


@pytest.fixture
def text(root, mmapd):
    data = b"".join(b"line %d\n" % i for i in range(1, 101)) + b"tail without newline"
    (root / "log.txt").write_bytes(data)
    m = mmapd_client.open(f"{mmapd.url}/files/log.txt", mmapd_client.ACCESS_READ)
    yield m, data
    m.close()


def test_lines_are_those_of_the_file(text):
    m, data = text
    lines = data.splitlines(keepends=True)
    with m.lines(2, 4) as view:
        assert list(view) == lines[1:4]
        assert (view.first_line, view.last_line) == (2, 4)
        start = data.index(b"line 2\n")
        assert view.byte_span == (start, data.index(b"line 5\n"), len(data))
    assert list(m.lines(99)) == lines[98:]
    assert list(m.lines(101, 200)) == [b"tail without newline"]
    assert list(m.lines(500)) == []


def test_bad_line_numbers_are_value_errors(text):
    m, _ = text
    with pytest.raises(mmapd_client.BadRequest):
        m.lines(0, 3)
    with pytest.raises(ValueError):
        m.lines(5, 2)
