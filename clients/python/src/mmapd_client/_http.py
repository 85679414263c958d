"""One persistent HTTP/1.1 connection to mmapd, and the targets of one remote file.

The standard library's http.client keeps the connection alive between requests; when the
server has closed it meanwhile (its idle timeout, a restart), the next request notices before
any answer arrived and is sent once more on a new connection. Every request the client makes
is safe to repeat: reads, searches, and byte-range writes inside the file (the same bytes at
the same offsets), so that retry never changes what the file ends up holding.
"""

from __future__ import annotations

import http.client
import ssl
import urllib.parse
from dataclasses import dataclass
from email.message import Message

from .errors import HTTPError, error_for

_RETRYABLE = (http.client.RemoteDisconnected, http.client.BadStatusLine, ConnectionResetError,
              BrokenPipeError, ConnectionAbortedError)


@dataclass
class Answer:
    """A complete answer: status, headers (case-insensitive `get`) and the whole body."""

    status: int
    reason: str
    headers: Message
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class FileTargets:
    """The request targets of one `/files/<path>` URL: the file, its views, its search.

    The URL's own query (a signed link's `expires` and `signature`) is kept on every target,
    since it is what grants access to the file, its search and its views alike.
    """

    def __init__(self, url: str) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        marker = parts.path.find("/files/")
        if marker < 0 or parts.path.endswith("/"):
            raise ValueError(f"not the URL of a file served by mmapd (/files/<path>): {url!r}")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.url = url
        self.file_path = parts.path
        self.search_path = parts.path[:marker] + "/search/" + parts.path[marker + len("/files/"):]
        self.query = parts.query

    def file(self, **parameters: object) -> str:
        return self._target(self.file_path, parameters)

    def search(self, **parameters: object) -> str:
        return self._target(self.search_path, parameters)

    def _target(self, path: str, parameters: dict[str, object]) -> str:
        pairs = [(name, value if isinstance(value, bytes) else str(value))
                 for name, value in parameters.items() if value is not None]
        query = "&".join(filter(None, [self.query, urllib.parse.urlencode(pairs, quote_via=urllib.parse.quote)]))
        return f"{path}?{query}" if query else path


class Session:
    """Requests over one kept-alive connection, with the bearer token on every one."""

    def __init__(self, targets: FileTargets, token: str | None, timeout: float | None,
                 ssl_context: ssl.SSLContext | None) -> None:
        self.targets = targets
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._connection: http.client.HTTPConnection | None = None

    def new_connection(self, timeout: float | None) -> http.client.HTTPConnection:
        if self.targets.scheme == "https":
            return http.client.HTTPSConnection(self.targets.host, self.targets.port, timeout=timeout,
                                               context=self._ssl_context)
        return http.client.HTTPConnection(self.targets.host, self.targets.port, timeout=timeout)

    def request(self, method: str, target: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Answer:
        """Sends the request and reads the whole answer (error statuses included)."""
        merged = {**self._headers, **(headers or {})}
        for attempt in (1, 2):
            reused = self._connection is not None
            if self._connection is None:
                self._connection = self.new_connection(self._timeout)
            try:
                self._connection.request(method, target, body=body, headers=merged)
                response = self._connection.getresponse()
                data = response.read()
            except _RETRYABLE:
                self.close()
                if reused and attempt == 1:
                    continue
                raise
            except BaseException:
                self.close()
                raise
            if response.will_close:
                self.close()
            return Answer(response.status, response.reason, response.headers, data)
        raise AssertionError("unreachable")

    def checked(self, method: str, target: str, headers: dict[str, str] | None = None,
                body: bytes | None = None, expected: tuple[int, ...] = (200,)) -> Answer:
        """`request`, raising the mapped `HTTPError` for any status not in `expected`."""
        answer = self.request(method, target, headers, body)
        if answer.status not in expected:
            raise self.error(answer)
        return answer

    def error(self, answer: Answer) -> HTTPError:
        return error_for(answer.status, answer.reason, answer.headers, answer.body, self.targets.url)

    def stream(self, target: str) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """A request on a connection of its own, its answer left to be read as it arrives (views
        that stream, such as follow, must not hold the object's connection)."""
        connection = self.new_connection(None)
        try:
            connection.request("GET", target, headers=self._headers)
            response = connection.getresponse()
        except BaseException:
            connection.close()
            raise
        if response.status != 200:
            body = response.read()
            connection.close()
            raise error_for(response.status, response.reason, response.headers, body, self.targets.url)
        return connection, response

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
