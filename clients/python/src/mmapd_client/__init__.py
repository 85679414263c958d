"""mmapd_client: Python's `mmap.mmap` interface over HTTP, for files served by mmapd.

    import mmapd_client
    m = mmapd_client.open("http://127.0.0.1:8080/files/hello.txt")
    m[0:11] = b"Hello World"
    m.flush()

See the package's README for what each operation costs and the consistency model.
"""

from __future__ import annotations

from typing import Any

from .errors import (BadRequest, Conflict, Forbidden, HTTPError, NoSpace, NotFound, NotWritable,
                     PreconditionFailed, RangeNotSatisfiable, SearchBudgetExceeded, ServerError,
                     TooLarge, Unauthorized)
from .rawio import RemoteRawIO, open_file
from .remote_mmap import ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, RemoteMmap
from .search import Match
from .views import FollowStream, LineStream

error = OSError  # as mmap.error


def open(url: str, access: int = ACCESS_DEFAULT, token: str | None = None, **options: Any) -> RemoteMmap:  # noqa: A001
    """The file at `url` (`http://HOST:PORT/files/<path>`) as an mmap-like object.

    `access` is ACCESS_READ, or ACCESS_WRITE / ACCESS_DEFAULT (writes allowed; the server must run
    with --writable). `token` is sent as `Authorization: Bearer` on every request. Keyword options:
    `timeout` (seconds, 60), `max_age` (seconds the size and cached blocks are trusted, 1.0),
    `if_match` (send writes with If-Match: PreconditionFailed when someone else changed the file),
    `block_size` and `cache_blocks` (the read cache: 64 KiB x 64), `max_pending_bytes` and
    `max_pending_parts` (writes kept until flush: 8 MiB, 256 runs), `ssl_context` (https).
    """
    return RemoteMmap(url, access, token, **options)


__all__ = [
    "ACCESS_DEFAULT", "ACCESS_READ", "ACCESS_WRITE", "BadRequest", "Conflict", "Forbidden",
    "FollowStream", "HTTPError", "LineStream", "Match", "NoSpace", "NotFound", "NotWritable", "PreconditionFailed",
    "RangeNotSatisfiable", "RemoteMmap", "RemoteRawIO", "SearchBudgetExceeded", "ServerError",
    "TooLarge", "Unauthorized", "error", "open", "open_file",
]
