"""Request targets built from a file's URL (pure: no server): the search path beside the file
path, a signed link's query kept on every target, parameters percent-encoded byte by byte."""

from __future__ import annotations

import pytest

from mmapd_client._http import FileTargets


def test_search_and_views_keep_the_prefix_and_the_signed_query():
    targets = FileTargets("https://example.test:8443/proxy/files/logs/app.log?expires=99&signature=ab12")
    assert (targets.scheme, targets.host, targets.port) == ("https", "example.test", 8443)
    assert targets.file() == "/proxy/files/logs/app.log?expires=99&signature=ab12"
    assert targets.file(lines="2-4") == "/proxy/files/logs/app.log?expires=99&signature=ab12&lines=2-4"
    assert targets.search(q=b"a b") == "/proxy/search/logs/app.log?expires=99&signature=ab12&q=a%20b"


@pytest.mark.parametrize("needle, encoded", [
    (b"+", "%2B"), (b"&=", "%26%3D"), (b"\x00\xff", "%00%FF"), (b"/?#", "%2F%3F%23"), (b"caf\xc3\xa9", "caf%C3%A9"),
])
def test_needles_are_percent_encoded_byte_by_byte(needle, encoded):
    assert FileTargets("http://h/files/f").search(q=needle, start=-5, end=None) == f"/search/f?q={encoded}&start=-5"


@pytest.mark.parametrize("url", ["ftp://h/files/f", "http:///files/f", "http://h/f", "http://h/files/dir/"])
def test_urls_that_are_not_files_are_refused(url):
    with pytest.raises(ValueError):
        FileTargets(url)
