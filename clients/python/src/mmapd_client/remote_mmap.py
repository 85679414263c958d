"""`RemoteMmap`: the interface of Python's `mmap.mmap` over a file served by mmapd.

Every operation maps to at most a few small requests on one kept-alive connection:

- `len(m)` is the size from a HEAD, kept for `max_age` seconds and then asked again;
- `m[a:b]` is one range request (small ones go through a block cache, below);
- `find`/`rfind` run on the server (`/search` with the window), never downloading the file;
- writes stay in this object until `flush()` (or a buffer limit) and then go as one PATCH:
  a single run as a `Content-Range` PATCH, several as one `multipart/byteranges` PATCH that
  the server applies all or none;
- `resize(n)` is `PATCH Content-Range: bytes */n` with an empty body.

Consistency (see the README): this object reads its own writes at once; other clients see
them after `flush()` returns, when they are on the server's stable storage. Reads see another
writer's changes no later than `max_age` seconds after they were made: within that time the
size and the cached blocks are trusted; after it, the next operation asks the server (one
HEAD), and any answer whose ETag differs from the one the cache was filled under empties it.
"""

from __future__ import annotations

import mmap as _mmap
import secrets
import ssl
import sys
import time
import warnings
from typing import Any, Iterator

from . import _arguments as arguments
from ._blocks import BlockCache
from ._http import Answer, FileTargets, Session
from ._pending import PendingWrites
from .search import Match, SearchPager
from .views import FollowStream, LineStream

ACCESS_DEFAULT = _mmap.ACCESS_DEFAULT
ACCESS_READ = _mmap.ACCESS_READ
ACCESS_WRITE = _mmap.ACCESS_WRITE

_READONLY = "mmap can't modify a readonly memory map."
_MISSING: Any = object()
# The largest single PATCH body sent at once: below the server's default --max-body-bytes (1 GiB)
# and its buffered-body limit (64 MiB), so a big write goes as several PATCHes it accepts.
_MAX_PATCH_BYTES = 32 << 20
# The longest needle find/rfind send as one search; longer ones are found through their first KiB
# (_find_long), whatever the server's --max-pattern-bytes (4096 by default, may be set lower).
_LONGEST_PATTERN = 1024
_NEAR_CANDIDATE = 64 << 10


class RemoteMmap:
    """A remote file with `mmap.mmap`'s methods; make one with `mmapd_client.open(url)`."""

    def __init__(self, url: str, access: int = ACCESS_DEFAULT, token: str | None = None, *,
                 timeout: float | None = 60.0, max_age: float = 1.0, if_match: bool = False,
                 block_size: int = 64 << 10, cache_blocks: int = 64,
                 max_pending_bytes: int = 8 << 20, max_pending_parts: int = 256,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        if access not in (ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE):
            raise ValueError("mmap invalid access parameter.")
        self._writable = access != ACCESS_READ
        self._max_age = max_age
        self._if_match = if_match
        self._max_pending_bytes = max_pending_bytes
        self._max_pending_parts = max_pending_parts
        self._cache = BlockCache(block_size, cache_blocks)
        self._pending = PendingWrites()
        self._session = Session(FileTargets(url), token, timeout, ssl_context)
        self._pos = 0
        self._size = 0
        self._etag: str | None = None
        self._checked = float("-inf")
        self._closed = False
        try:
            self._revalidate()
        except BaseException:
            self._session.close()
            raise

    # -- what the object knows about the remote file --------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("mmap closed or invalid")

    def _check_writable(self) -> None:
        if not self._writable:
            raise TypeError(_READONLY)

    def _adopt(self, answer: Answer, size: int | None) -> None:
        """Takes the version an answer describes: its ETag (a new one empties the cache), and
        the file's size when the answer tells it."""
        etag = answer.header("ETag")
        if etag != self._etag:
            self._cache.clear()
            self._etag = etag
        if size is not None:
            self._size = size
        self._checked = time.monotonic()

    def _revalidate(self) -> None:
        answer = self._session.checked("HEAD", self._session.targets.file())
        self._adopt(answer, int(answer.header("Content-Length") or 0))

    def _current_size(self) -> int:
        self._check_open()
        if time.monotonic() - self._checked > self._max_age:
            self._revalidate()
        return self._size

    # -- reading ---------------------------------------------------------------------------------

    def _fetch(self, start: int, end: int) -> bytes:
        """Bytes [start, end) of the file as the server has them, in one range request (fewer
        when the file has shrunk under the request)."""
        answer = self._session.checked("GET", self._session.targets.file(),
                                       {"Range": f"bytes={start}-{end - 1}"}, expected=(200, 206, 416))
        if answer.status == 416:
            self._adopt(answer, _total_length(answer.header("Content-Range")))
            return b""
        if answer.status == 200:  # an empty file answers 200 whatever the Range
            self._adopt(answer, len(answer.body))
            return answer.body[start:end]
        self._adopt(answer, _total_length(answer.header("Content-Range")))
        return answer.body

    def _read(self, start: int, end: int) -> bytes:
        """Bytes [start, end) as this object sees them: the server's, with pending writes on top."""
        if end <= start:
            return b""
        pending = self._pending.covering(start, end)
        if pending is not None:
            return pending
        size = self._cache.block_size
        if end - start > size:
            return self._pending.overlay(start, self._fetch(start, end))
        first, last = start // size, (end - 1) // size
        blocks = [self._cache.get(index) for index in range(first, last + 1)]
        if any(block is None for block in blocks):
            data = self._fetch(first * size, (last + 1) * size)
            blocks = [data[i * size:(i + 1) * size] for i in range(last - first + 1)]
            for index, block in enumerate(blocks, first):
                if block:
                    self._cache.put(index, block)
        joined = b"".join(blocks)  # type: ignore[arg-type]
        return self._pending.overlay(start, joined[start - first * size:end - first * size])

    def __len__(self) -> int:
        return self._current_size()

    def size(self) -> int:
        """The file's size on the server now (asked every time, as mmap's size() asks fstat)."""
        self._check_open()
        self._revalidate()
        return self._size

    def __getitem__(self, item: Any) -> Any:
        size = self._current_size()
        if isinstance(item, slice):
            start, stop, step = item.indices(size)
            positions = range(start, stop, step)
            if not positions:
                return b""
            if step == 1:
                return self._read(start, stop)
            low, high = min(positions), max(positions) + 1
            if high - low <= 4 * self._cache.block_size or high - low <= 4 * len(positions):
                return self._read(low, high)[start - low::step]
            return bytes(self._read(i, i + 1)[0] for i in positions)
        index = arguments.item_index(item, size, "mmap indices must be integers")
        data = self._read(index, index + 1)
        if not data:
            raise IndexError("mmap index out of range")
        return data[0]

    def __iter__(self) -> Iterator[bytes]:
        position = 0
        while position < self._current_size():
            yield self._read(position, position + 1)
            position += 1

    def read(self, n: Any = None) -> bytes:
        self._check_open()
        if n is not None and not hasattr(n, "__index__"):
            raise TypeError(f"argument should be integer or None, not '{type(n).__name__}'")
        count = -1 if n is None else arguments.index_sized(n, OverflowError)
        size = self._current_size()
        remaining = max(size - self._pos, 0)
        count = remaining if count < 0 else min(count, remaining)
        data = self._read(self._pos, self._pos + count)
        self._pos += len(data)
        return data

    def read_byte(self) -> int:
        size = self._current_size()
        if self._pos >= size:
            raise ValueError("read byte out of range")
        data = self._read(self._pos, self._pos + 1)
        if not data:
            raise ValueError("read byte out of range")
        self._pos += 1
        return data[0]

    def readline(self) -> bytes:
        size = self._current_size()
        line = bytearray()
        position, chunk = self._pos, self._cache.block_size
        while position < size:
            end = min(size, position + chunk - position % chunk)
            data = self._read(position, end)
            if not data:
                break
            newline = data.find(b"\n")
            if newline >= 0:
                line += data[:newline + 1]
                break
            line += data
            position += len(data)
        self._pos += len(line)
        return bytes(line)

    def seek(self, pos: Any, whence: Any = 0) -> int | None:
        self._check_open()
        distance = arguments.ssize(pos)
        how = arguments.ssize(whence)
        if how == 0:
            where = distance
        elif how == 1:
            where = self._pos + distance
        elif how == 2:
            where = self._current_size() + distance
        else:
            raise ValueError("unknown seek type")
        if where < 0 or where > self._current_size():
            raise ValueError("seek out of range")
        self._pos = where
        return self._pos if sys.version_info >= (3, 13) else None

    def tell(self) -> int:
        self._check_open()
        return self._pos

    # -- searching -------------------------------------------------------------------------------

    def find(self, sub: Any, start: Any = _MISSING, end: Any = _MISSING) -> int:
        """The lowest offset of `sub` wholly inside [start, end) (start defaults to the current
        position, as mmap's does), found by the server; -1 when absent."""
        return self._find(sub, start, end, reverse=False)

    def rfind(self, sub: Any, start: Any = _MISSING, end: Any = _MISSING) -> int:
        """The highest offset of `sub` wholly inside [start, end), found by the server."""
        return self._find(sub, start, end, reverse=True)

    def _find(self, sub: Any, start: Any, end: Any, reverse: bool) -> int:
        self._check_open()
        needle = arguments.byte_string(sub)
        first = self._pos if start is _MISSING else arguments.ssize(start)
        last = None if end is _MISSING else arguments.ssize(end)
        self._push_pending()
        if not needle:
            size = self._current_size()
            low, high = _clamp(first, size), _clamp(size if last is None else last, size)
            return -1 if low > high else (high if reverse else low)
        if len(needle) > _LONGEST_PATTERN:
            return self._find_long(needle, first, last, reverse)
        pager = SearchPager(self, needle, regex=False, icase=False, start=first, end=last,
                            reverse=reverse, limit=1, line_numbers=False, pinned=False)
        match = next(iter(pager), None)
        return -1 if match is None else match.offset

    def _find_long(self, needle: bytes, first: int, last: int | None, reverse: bool) -> int:
        """A needle longer than the server takes as a pattern: the server finds where its first
        KiB occurs (in a window cut so that the whole needle fits), and the client looks for the
        needle in the bytes around each candidate, reading only those."""
        size = self._current_size()
        low, high = _clamp(first, size), _clamp(size if last is None else last, size)
        prefix = needle[:_LONGEST_PATTERN]
        window_end = high - (len(needle) - len(prefix))
        while window_end - low >= len(prefix):
            pager = SearchPager(self, prefix, regex=False, icase=False, start=low, end=window_end,
                                reverse=reverse, limit=1, line_numbers=False, pinned=False)
            candidate = next(iter(pager), None)
            if candidate is None:
                return -1
            # Check the candidate and the bytes beside it here: occurrences of the prefix often
            # come in runs (overlapping ones too), and one read settles a whole run.
            if reverse:
                chunk_start = max(low, candidate.offset - _NEAR_CANDIDATE)
                found = self._read(chunk_start, candidate.offset + len(needle)).rfind(needle)
                if found >= 0:
                    return chunk_start + found
                window_end = chunk_start + len(prefix) - 1
            else:
                chunk_end = min(high, candidate.offset + len(needle) + _NEAR_CANDIDATE)
                found = self._read(candidate.offset, chunk_end).find(needle)
                if found >= 0:
                    return candidate.offset + found
                low = chunk_end - len(needle) + 1
        return -1

    def finditer(self, pattern: bytes | str, regex: bool = True, start: int | None = None,
                 end: int | None = None, *, icase: bool = False, line_numbers: bool = True,
                 page_size: int = 1000) -> Iterator[Match]:
        """Every match of `pattern` (a PCRE2 pattern, or a literal with `regex=False`) in the
        window, as `Match` objects, in file order, fetched from the server page by page. The
        pages after the first carry `If-Match`, so every match belongs to the version the first
        page searched; a file changed meanwhile raises `PreconditionFailed`."""
        self._check_open()
        needle = pattern.encode() if isinstance(pattern, str) else arguments.byte_string(pattern)
        self._push_pending()
        return iter(SearchPager(self, needle, regex=regex, icase=icase, start=start, end=end,
                                reverse=False, limit=page_size, line_numbers=line_numbers, pinned=True))

    # -- views -----------------------------------------------------------------------------------

    def lines(self, first: int, last: int | None = None) -> LineStream:
        """Lines `first` to `last` (1-based, inclusive; to the end without `last`), as the server's
        `?lines=` view sends them: each item is one line's bytes with its newline."""
        self._check_open()
        self._push_pending()
        selection = f"{first}-" if last is None else f"{first}-{last}"
        return LineStream(*self._session.stream(self._session.targets.file(lines=selection)))

    def follow(self, offset: int | None = None, lines: int | None = None, *, chunk_size: int = 65536) -> FollowStream:
        """The bytes appended to the file from now on (`tail -f`), from byte `offset`, or from the
        start of the last `lines` lines, as the server's `?follow=true` view streams them on a
        connection of its own: an iterator of byte chunks that resumes a cut stream by offset and
        ends when the server ends the stream (rotation, truncation, shutdown)."""
        self._check_open()
        self._push_pending()
        if offset is not None and lines is not None:
            raise ValueError("give offset or lines, not both")
        if lines is not None and lines < 1:
            raise ValueError("lines must be at least 1")
        return FollowStream(self._session, offset, lines, chunk_size)

    # -- writing ---------------------------------------------------------------------------------

    def __setitem__(self, item: Any, value: Any) -> None:
        size = self._current_size()
        self._check_writable()
        if isinstance(item, slice):
            start, stop, step = item.indices(size)
            positions = range(start, stop, step)
            data = arguments.byte_string(value)
            if len(data) != len(positions):
                raise IndexError("mmap slice assignment is wrong size")
            if step == 1:
                self._write(start, data)
            else:
                for position, byte in zip(positions, data):
                    self._write(position, bytes((byte,)))
            return
        index = arguments.item_index(item, size, "mmap indices must be integer")
        if not hasattr(value, "__index__"):
            raise TypeError("mmap item value must be an int")
        byte = arguments.index_sized(value, TypeError)
        if not 0 <= byte <= 255:
            raise ValueError("mmap item value must be in range(0, 256)")
        self._write(index, bytes((byte,)))

    def __delitem__(self, item: Any) -> None:
        size = self._current_size()
        self._check_writable()
        if isinstance(item, slice):
            raise TypeError("mmap object doesn't support slice deletion")
        arguments.item_index(item, size, "mmap indices must be integer")
        raise TypeError("mmap doesn't support item deletion")

    def write(self, data: Any) -> int:
        self._check_open()
        payload = arguments.byte_string(data)
        self._check_writable()
        size = self._current_size()
        if self._pos > size or size - self._pos < len(payload):
            raise ValueError("data out of range")
        self._write(self._pos, payload)
        self._pos += len(payload)
        return len(payload)

    def write_byte(self, byte: Any) -> None:
        self._check_open()
        value = arguments.ssize(byte)
        if value < 0:
            raise OverflowError("unsigned byte integer is less than minimum")
        if value > 255:
            raise OverflowError("unsigned byte integer is greater than maximum")
        self._check_writable()
        if self._pos >= self._current_size():
            raise ValueError("write byte out of range")
        self._write(self._pos, bytes((value,)))
        self._pos += 1

    def move(self, dest: Any, src: Any, count: Any) -> None:
        self._check_open()
        target, source, length = arguments.ssize(dest), arguments.ssize(src), arguments.ssize(count)
        self._check_writable()
        size = self._current_size()
        if min(target, source, length) < 0 or source + length > size or target + length > size:
            raise ValueError("source, destination, or count out of range")
        self._write(target, self._read(source, source + length))

    def _write(self, offset: int, data: bytes) -> None:
        if len(data) >= self._max_pending_bytes:
            self._push_pending()
            for lower in range(0, len(data), _MAX_PATCH_BYTES):
                self._patch([(offset + lower, data[lower:lower + _MAX_PATCH_BYTES])])
            return
        self._pending.add(offset, data)
        if self._pending.byte_count >= self._max_pending_bytes or len(self._pending) >= self._max_pending_parts:
            self._push_pending()

    def _push_pending(self) -> None:
        if len(self._pending):
            self._patch(self._pending.take())

    def _patch(self, runs: list[tuple[int, bytes]]) -> None:
        """One PATCH of every run, all or none: a Content-Range PATCH for one, multipart for more."""
        headers = {"If-Match": self._etag} if self._if_match and self._etag else {}
        if len(runs) == 1:
            offset, data = runs[0]
            headers["Content-Range"] = f"bytes {offset}-{offset + len(data) - 1}/*"
            headers["Content-Type"] = "application/octet-stream"
            body = data
        else:
            boundary = secrets.token_hex(16)
            headers["Content-Type"] = f"multipart/byteranges; boundary={boundary}"
            body = _multipart(runs, boundary)
        try:
            answer = self._session.checked("PATCH", self._session.targets.file(), headers, body,
                                           expected=(204,))
        except BaseException:
            self._cache.clear()
            raise
        self._after_write(answer, runs)

    def _after_write(self, answer: Answer, runs: list[tuple[int, bytes]]) -> None:
        """With If-Match the cache plus these runs is exactly the new version; without it, someone
        else may have written in between, so nothing cached can be trusted any more."""
        if self._if_match:
            for offset, data in runs:
                self._cache.patch(offset, data)
            self._etag = answer.header("ETag")
        else:
            self._cache.clear()
            self._etag = answer.header("ETag")

    def flush(self, offset: Any = 0, size: Any = _MISSING) -> None:
        """Sends every pending write; when it returns they are on the server's stable storage."""
        self._check_open()
        start = arguments.ssize(offset)
        length = self._size if size is _MISSING else arguments.ssize(size)
        if length < 0 or start < 0 or self._size - start < length:
            raise ValueError("flush values out of range")
        if self._writable:
            self._push_pending()

    def resize(self, newsize: Any) -> None:
        """Sets the remote file's length (truncating, or extending with zero bytes), durably."""
        self._check_open()
        length = arguments.ssize(newsize)
        if not self._writable:
            raise TypeError("mmap can't resize a readonly or copy-on-write memory map.")
        if length < 0:
            raise ValueError("new size out of range")
        self._push_pending()
        headers = {"Content-Range": f"bytes */{length}"}
        if self._if_match and self._etag:
            headers["If-Match"] = self._etag
        answer = self._session.checked("PATCH", self._session.targets.file(), headers, b"", expected=(204,))
        self._cache.clear()
        self._adopt(answer, length)

    # -- life cycle ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Flushes pending writes, then closes the connection (also when the flush fails)."""
        if self._closed:
            return
        try:
            if self._writable:
                self._push_pending()
        finally:
            self._closed = True
            self._session.close()

    def __del__(self) -> None:
        # Flushing here would send requests from a finalizer; say instead that writes were lost,
        # as an unclosed file says it was not closed.
        if not getattr(self, "_closed", True) and len(getattr(self, "_pending", ())):
            warnings.warn(f"{self!r} was not closed: its unflushed writes are lost",
                          ResourceWarning, stacklevel=2)

    def __enter__(self) -> RemoteMmap:
        self._check_open()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"size={self._size}, pos={self._pos}"
        return f"<mmapd_client.RemoteMmap {self._session.targets.url} {state}>"

    # -- for the helpers (search pages, io adapter) ----------------------------------------------

    @property
    def session(self) -> Session:
        return self._session

    @property
    def etag(self) -> str | None:
        """The ETag of the version this object last saw."""
        return self._etag

    def adopt(self, answer: Answer, size: int | None) -> None:
        self._adopt(answer, size)

    def read_range(self, start: int, end: int) -> bytes:
        """Bytes [start, end) clamped to the file, for readers that keep their own position."""
        self._check_open()
        return self._read(start, min(end, self._current_size()))


def _clamp(value: int, size: int) -> int:
    if value < 0:
        value += size
    return min(max(value, 0), size)


def _total_length(content_range: str | None) -> int | None:
    if content_range and "/" in content_range:
        total = content_range.rsplit("/", 1)[1].strip()
        if total.isdigit():
            return int(total)
    return None


def _multipart(runs: list[tuple[int, bytes]], boundary: str) -> bytes:
    parts = []
    for offset, data in runs:
        head = f"--{boundary}\r\nContent-Range: bytes {offset}-{offset + len(data) - 1}/*\r\n\r\n"
        parts += [head.encode(), data, b"\r\n"]
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts)


__all__ = ["ACCESS_DEFAULT", "ACCESS_READ", "ACCESS_WRITE", "RemoteMmap"]
