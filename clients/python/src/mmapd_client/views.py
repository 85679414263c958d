"""Streaming views of a file (`?lines=`, `?follow=`), read line by line as they arrive.

Each stream has a connection of its own, so a long view (or an endless follow) never holds the
connection the object's other calls use.
"""

from __future__ import annotations

import http.client
from typing import Iterator


class LineStream(Iterator[bytes]):
    """An iterator over the lines of a view, each with its newline (the last may lack one).

    `first_line`/`last_line` and `byte_span` (`(start, end, file_length)`, end exclusive) are
    what the server says it served, from its `Mmapd-Lines` and `Mmapd-Byte-Span` headers (None
    when the view is empty). Close it (or use it as a context manager) to end the stream early.
    """

    def __init__(self, connection: http.client.HTTPConnection, response: http.client.HTTPResponse) -> None:
        self._connection = connection
        self._response = response
        self.first_line, self.last_line = _pair(response.getheader("Mmapd-Lines"))
        self.byte_span = _span(response.getheader("Mmapd-Byte-Span"))

    def __iter__(self) -> LineStream:
        return self

    def __next__(self) -> bytes:
        if self._connection is None:
            raise StopIteration
        line = self._response.readline()
        if not line:
            self.close()
            raise StopIteration
        return line

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None  # type: ignore[assignment]

    def __enter__(self) -> LineStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _pair(value: str | None) -> tuple[int | None, int | None]:
    if value and "-" in value:
        first, last = value.split("-", 1)
        if first.strip().isdigit() and last.strip().isdigit():
            return int(first), int(last)
    return None, None


def _span(value: str | None) -> tuple[int, int, int] | None:
    """`a-b/len` (b inclusive, as in Content-Range) as (a, b + 1, len)."""
    if value and "/" in value:
        span, total = value.split("/", 1)
        first, last = _pair(span)
        if first is not None and last is not None and total.strip().isdigit():
            return first, last + 1, int(total)
    return None
