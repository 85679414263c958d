"""HTTP error answers as Python exceptions.

Every error the server sends is an `application/problem+json` body (RFC 9457). It becomes an
`OSError` subclass carrying the HTTP status, the problem's title and detail, and the URL, so
code that already handles `OSError` from local files (a missing file, a permission problem, a
full disk) handles the remote ones the same way: `FileNotFoundError` for 404,
`PermissionError` for 401/403/405, `errno.ENOSPC` for 507.
"""

from __future__ import annotations

import errno
import json
from email.message import Message


class HTTPError(OSError):
    """An error answer from mmapd: `status`, `title`, `detail` and `url` say which."""

    status: int
    title: str
    detail: str
    url: str

    def __init__(self, status: int, title: str, detail: str, url: str, code: int = errno.EIO) -> None:
        super().__init__(code, f"{status} {title}: {detail}" if detail else f"{status} {title}", url)
        self.status = status
        self.title = title
        self.detail = detail
        self.url = url


class BadRequest(HTTPError, ValueError):
    """400: the server refused the request's form (a bad pattern, a malformed range)."""


class Unauthorized(HTTPError, PermissionError):
    """401: a token is required, or the one given is not valid."""


class Forbidden(HTTPError, PermissionError):
    """403: the token does not allow this (a read token for a write), or the file is not writable."""


class NotFound(HTTPError, FileNotFoundError):
    """404: no such file (or a path outside the served root)."""


class NotWritable(HTTPError, PermissionError):
    """405: the server was started without --writable."""


class Conflict(HTTPError):
    """409: the file changed under the request (truncated while searched); retrying may work."""


class PreconditionFailed(HTTPError):
    """412: the file is no longer the version this object last saw (If-Match did not hold)."""


class TooLarge(HTTPError):
    """413: the request body is above the server's limit."""


class RangeNotSatisfiable(HTTPError):
    """416: a range outside the file (it may have shrunk)."""


class SearchBudgetExceeded(HTTPError):
    """422: a search needed more time or backtracking than the server allows."""


class NoSpace(HTTPError):
    """507: the server's disk has no room for the file to grow."""


class ServerError(HTTPError):
    """5xx other than 507."""


_BY_STATUS: dict[int, tuple[type[HTTPError], int]] = {
    400: (BadRequest, errno.EINVAL),
    401: (Unauthorized, errno.EACCES),
    403: (Forbidden, errno.EACCES),
    404: (NotFound, errno.ENOENT),
    405: (NotWritable, errno.EROFS),
    409: (Conflict, errno.EAGAIN),
    412: (PreconditionFailed, errno.ESTALE),
    413: (TooLarge, errno.EFBIG),
    416: (RangeNotSatisfiable, errno.EINVAL),
    422: (SearchBudgetExceeded, errno.ETIME),
    507: (NoSpace, errno.ENOSPC),
}


def error_for(status: int, reason: str, headers: Message, body: bytes, url: str) -> HTTPError:
    """The exception for an error answer, with the problem detail when the body has one."""
    title, detail = reason, ""
    if "json" in headers.get("content-type", ""):
        try:
            problem = json.loads(body)
            title = str(problem.get("title", title))
            detail = str(problem.get("detail", ""))
        except (ValueError, AttributeError):
            pass
    if not detail:
        detail = body.decode("utf-8", "replace").strip()[:500]
    kind, code = _BY_STATUS.get(status, (ServerError if status >= 500 else HTTPError, errno.EIO))
    return kind(status, title, detail, url, code)
