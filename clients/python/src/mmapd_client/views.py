"""Streaming views of a file (`?lines=`, `?follow=`), read line by line as they arrive.

Each stream has a connection of its own, so a long view (or an endless follow) never holds the
connection the object's other calls use.
"""

from __future__ import annotations

import http.client
from typing import Any, Iterator

from .errors import RangeNotSatisfiable


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


class FollowStream(Iterator[bytes]):
    """The bytes appended to a file as they arrive (`tail -f`), from the server's `?follow=true`
    view: each item is a chunk of bytes as the server sent it, in file order.

    `position` is the file offset of the next byte. When the stream is **cut** (the connection
    closes without the stream's end: the server let go of a reader that stopped reading, a network
    error, a restart), it is resumed at `position` (`?offset=`) on a new connection, so no byte is
    lost or repeated; `resumes` counts how often. Iteration ends when the server **ends** the
    stream (the file was truncated, replaced or deleted, or the server shut down), and when a
    resume finds the file shorter than `position` (truncated or replaced meanwhile). Close it (or
    use it as a context manager) to stop following.
    """

    #: Cuts in a row, without a byte in between, before the error is raised instead.
    max_resumes_without_progress = 3

    def __init__(self, session: Any, offset: int | None, lines: int | None, chunk_size: int) -> None:
        self._session = session
        self._chunk_size = chunk_size
        self._connection: http.client.HTTPConnection | None = None
        self._response: http.client.HTTPResponse | None = None
        self.resumes = 0
        self._fruitless = 0
        self.position = self._open(offset=offset, lines=None if lines is None else f"-{lines}")

    def _open(self, **start: object) -> int:
        self._connection, self._response = self._session.stream(self._session.targets.file(follow="true", **start))
        return int(self._response.getheader("Mmapd-Follow-Offset") or 0)

    def __iter__(self) -> FollowStream:
        return self

    def __next__(self) -> bytes:
        while self._response is not None:
            try:
                data = self._response.read1(self._chunk_size)
            except (http.client.HTTPException, OSError, ValueError):
                self._resume()
                continue
            if not data:
                self.close()
                break
            self.position += len(data)
            self._fruitless = 0
            return data
        raise StopIteration

    def _resume(self) -> None:
        self._drop_connection()
        self._fruitless += 1
        if self._fruitless > self.max_resumes_without_progress:
            raise ConnectionError(f"the follow stream was cut {self._fruitless} times in a row at offset {self.position}")
        try:
            self._open(offset=self.position)
        except RangeNotSatisfiable:
            # The file is now shorter than what was read: truncated or replaced while cut off.
            self.close()
            return
        self.resumes += 1

    def _drop_connection(self) -> None:
        if self._connection is not None:
            self._connection.close()
        self._connection = None

    def close(self) -> None:
        self._drop_connection()
        self._response = None

    def __enter__(self) -> FollowStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
