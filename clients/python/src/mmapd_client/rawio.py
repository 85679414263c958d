"""`RemoteRawIO`: a remote file as an `io.RawIOBase`, for libraries that read file objects
(csv, zipfile, pandas, pyarrow...): each `readinto` is one range request of the size asked, and
`seek` costs nothing, so a reader that jumps around (a zip's central directory at the end, a
Parquet footer) moves only the bytes it reads."""

from __future__ import annotations

import io
from typing import Any

from .remote_mmap import ACCESS_READ, RemoteMmap


class RemoteRawIO(io.RawIOBase):
    def __init__(self, remote: RemoteMmap) -> None:
        super().__init__()
        self._remote = remote
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        data = self._remote.read_range(self._position, self._position + len(view))
        view[:len(data)] = data
        self._position += len(data)
        return len(data)

    def readall(self) -> bytes:
        """The rest of the file in one range request (RawIOBase's default reads 8 KiB at a time)."""
        data = self._remote.read_range(self._position, len(self._remote))
        self._position += len(data)
        return data

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            position = offset
        elif whence == io.SEEK_CUR:
            position = self._position + offset
        elif whence == io.SEEK_END:
            position = len(self._remote) + offset
        else:
            raise ValueError(f"invalid whence ({whence}, should be 0, 1 or 2)")
        if position < 0:
            raise ValueError(f"negative seek position {position}")
        self._position = position
        return position

    def tell(self) -> int:
        return self._position

    def close(self) -> None:
        if not self.closed:
            self._remote.close()
        super().close()


def open_file(url: str, token: str | None = None, *, buffering: int = 64 << 10,
              **options: Any) -> io.BufferedReader:
    """A read-only binary file object (`io.BufferedReader` over `RemoteRawIO`) for `url`;
    `options` go to `RemoteMmap` (timeout, max_age, ...)."""
    raw = RemoteRawIO(RemoteMmap(url, ACCESS_READ, token, **options))
    return io.BufferedReader(raw, buffer_size=buffering)
