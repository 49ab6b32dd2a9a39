"""A small HTTP/1.1 client for the journey benchmark: a pool of keep-alive connections to one
host, each request waiting its turn for one, as a browser's requests share a few connections
(harness/journey.py says why not wrk)."""

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

REQUEST_TIMEOUT_S = 30.0  # a browser waits at least this long before calling it an error
# gunicorn closes a keep-alive connection idle for 5 s (gunicorn.conf.py): one idle for
# longer than this is reopened rather than written to as the server closes it.
IDLE_REOPEN_S = 4.0


@dataclass
class Answer:
    """One HTTP response: its status, headers (lower-case names) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    """The status and headers of a response head (up to, not including, the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"not an HTTP status line: {lines[0][:80]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.used_at = time.monotonic()

    def close(self) -> None:
        self.writer.close()


class Pool:
    """At most `size` keep-alive HTTP/1.1 connections to one host; requests wait their turn."""

    def __init__(self, url: str, size: int) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self._slots = asyncio.Semaphore(size)
        self._idle: list[_Connection] = []

    async def request(self, method: str, path: str, body: bytes = b"", extra: str = "") -> Answer:
        """One request on an idle connection (or a new one); OSError on a network failure.

        extra: header lines to add, each ending in CRLF."""
        async with self._slots:
            connection = self._take()
            fresh = connection is None
            if connection is None:
                connection = await self._open()
            try:
                answer = await asyncio.wait_for(
                    self._exchange(connection, method, path, body, extra), REQUEST_TIMEOUT_S
                )
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as error:
                connection.close()
                if fresh or isinstance(error, TimeoutError):
                    raise OSError(f"{method} {path}: {error!r}") from error
                # A kept-alive connection the server closed meanwhile: once more, anew.
                connection = await self._open()
                try:
                    answer = await asyncio.wait_for(
                        self._exchange(connection, method, path, body, extra),
                        REQUEST_TIMEOUT_S,
                    )
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as again:
                    connection.close()
                    raise OSError(f"{method} {path}: {again!r}") from again
            if answer.headers.get("connection", "").lower() == "close":
                connection.close()
            else:
                connection.used_at = time.monotonic()
                self._idle.append(connection)
            return answer

    def _take(self) -> "_Connection | None":
        now = time.monotonic()
        while self._idle:
            connection = self._idle.pop()  # the most recently used: least likely closed
            if now - connection.used_at < IDLE_REOPEN_S:
                return connection
            connection.close()
        return None

    async def _open(self) -> _Connection:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(self.host, self.port, limit=1 << 20), REQUEST_TIMEOUT_S
        )
        return _Connection(reader, writer)

    async def _exchange(
        self, connection: _Connection, method: str, path: str, body: bytes, extra: str
    ) -> Answer:
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{extra}"
        if method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        connection.writer.write(head.encode() + b"\r\n" + body)
        await connection.writer.drain()
        raw = await connection.reader.readuntil(b"\r\n\r\n")
        status, headers = parse_head(raw[:-4])
        length = int(headers.get("content-length", "0"))
        content = await connection.reader.readexactly(length) if length else b""
        return Answer(status, headers, content)

    def close(self) -> None:
        """Close every idle connection."""
        while self._idle:
            self._idle.pop().close()
