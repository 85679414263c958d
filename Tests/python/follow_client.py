"""A follow-stream reader over a raw socket: sends one GET, parses the head, then decodes the
chunked body as it arrives, so tests see each byte when the server sends it and can tell a clean
end (the terminating chunk) from a cut (the connection closed mid-body)."""

from __future__ import annotations

import socket
import time


class FollowStream:
    def __init__(self, port: int, target: str, headers: dict[str, str] | None = None,
                 receive_buffer: int | None = None, timeout: float = 10.0):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.socket.settimeout(timeout)
        self.socket.connect(("127.0.0.1", port))
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        self.socket.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{extra}\r\n".encode())
        self.raw = b""
        self.body = b""
        self.ended = False   # the terminating chunk came
        self.closed = False  # the connection closed
        self.status = 0
        self.headers: dict[str, str] = {}
        self.head_raw = b""

    def read_head(self) -> "FollowStream":
        while b"\r\n\r\n" not in self.raw:
            self._receive()
            if self.closed:
                raise AssertionError(f"closed before the head: {self.raw!r}")
        head, _, self.raw = self.raw.partition(b"\r\n\r\n")
        self.head_raw = head
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        self.headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        if self.headers.get("transfer-encoding") != "chunked":
            length = int(self.headers.get("content-length", "0"))
            while len(self.raw) < length and not self.closed:
                self._receive()
            self.body, self.ended = self.raw[:length], True
        return self

    def _receive(self) -> None:
        data = self.socket.recv(1 << 20)
        if not data:
            self.closed = True
        self.raw += data

    def _decode(self) -> None:
        while not self.ended:
            line_end = self.raw.find(b"\r\n")
            if line_end < 0:
                return
            size = int(self.raw[:line_end].split(b";")[0], 16)
            if size == 0:
                # The last chunk, then (trailer fields and) an empty line.
                if b"\r\n\r\n" in self.raw[line_end:]:
                    self.ended = True
                return
            if len(self.raw) < line_end + 2 + size + 2:
                return
            self.body += self.raw[line_end + 2:line_end + 2 + size]
            self.raw = self.raw[line_end + 2 + size + 2:]

    def read_until(self, predicate, timeout: float = 10.0) -> bytes:
        """Receives until predicate(body) holds (or the stream ends); returns the body so far."""
        deadline = time.monotonic() + timeout
        self._decode()
        while not predicate(self.body) and not self.ended and not self.closed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out with {len(self.body)} body bytes: {self.body[-200:]!r}")
            self.socket.settimeout(remaining)
            self._receive()
            self._decode()
        return self.body

    def read_bytes(self, count: int, timeout: float = 10.0) -> bytes:
        return self.read_until(lambda body: len(body) >= count, timeout)

    def read_to_end(self, timeout: float = 10.0) -> bytes:
        """Everything until the terminating chunk or the connection's close."""
        return self.read_until(lambda _: False, timeout)

    def close(self) -> None:
        self.socket.close()
