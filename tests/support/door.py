"""The public door for real: our nginx.conf in front of gunicorn (gunicorn.conf.py), and the
clients that talk to it: polite ones (http.client, over TLS too) and hostile ones (raw bytes
on a socket, sent whole or a byte at a time). nginx itself, rendered and started, is
harness.door's, shared with the benchmark.

Importing this starts nothing.
"""

import http.client
import json
import select
import socket
import ssl
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.config import BIN, child_environment
from tests.support.services import ROOT, wait_for

#: gunicorn as the image's CMD runs it.
GUNICORN = [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "landing:create_app()"]


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


def start(command, log: Path, **env) -> subprocess.Popen:
    environment = child_environment(**env)
    with log.open("w") as output:
        return subprocess.Popen(
            command, cwd=ROOT, env=environment, stdout=output, stderr=subprocess.STDOUT
        )


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def serving(processes: list[subprocess.Popen], ready, timeout: float = 30):
    """Once ready() holds, the body runs; every process is stopped afterwards, last first.

    ready may raise OSError while a process is still starting: that counts as not yet.
    """

    def answering():
        try:
            return ready()
        except OSError:
            return False

    try:
        wait_for(answering, timeout=timeout)
        yield
    finally:
        for process in reversed(processes):
            stop(process)


def free_port_v6() -> int:
    """A TCP port nothing listens on at [::1] right now."""
    with socket.socket(socket.AF_INET6) as sock:
        sock.bind(("::1", 0))
        return sock.getsockname()[1]


def self_signed_pair(folder: Path) -> tuple[Path, Path]:
    """(cert, key) from scripts/self-signed-cert.sh: valid for localhost, 127.0.0.1 and ::1."""
    subprocess.run(
        [str(ROOT / "scripts" / "self-signed-cert.sh"), str(folder)],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return folder / "cert.pem", folder / "key.pem"


def trusting(cert: Path) -> ssl.SSLContext:
    """A client context that verifies the server's certificate against cert, and nothing else."""
    return ssl.create_default_context(cafile=str(cert))


class _Connection(http.client.HTTPConnection):
    """HTTP to an address from a source address; HTTPS when given a context, verifying the
    certificate as `hostname` (which is also the Host header)."""

    def __init__(self, address, port, hostname, tls, source, timeout):
        super().__init__(hostname, port, timeout=timeout, source_address=source)
        self._address, self._tls = address, tls

    def connect(self):
        self.sock = socket.create_connection(
            (self._address, self.port), self.timeout, self.source_address
        )
        if self._tls is not None:
            self.sock = self._tls.wrap_socket(self.sock, server_hostname=self.host)


def request(
    port: int,
    method: str,
    path: str,
    body=None,
    client: str = "127.0.0.2",
    headers: dict | None = None,
    tls: ssl.SSLContext | None = None,
    hostname: str | None = None,
    address: str = "127.0.0.1",
) -> Response:
    """One request to address:port, sent from `client` (an IPv4 loopback address, or None
    over IPv6), over TLS when `tls` is given (the certificate checked as `hostname`)."""
    source = (client, 0) if client else None
    connection = _Connection(address, port, hostname or address, tls, source, timeout=10)
    try:
        data = json.dumps(body) if isinstance(body, dict) else body
        sent = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=data, headers=sent)
        answer = connection.getresponse()
        return Response(answer.status, answer.headers, answer.read())
    finally:
        connection.close()


@dataclass
class Stack:
    """gunicorn behind nginx, reached over plain HTTP on 127.0.0.1:port."""

    port: int
    gunicorn_log: Path
    nginx_log: Path

    def request(self, method, path, body=None, client="127.0.0.2", headers=None) -> Response:
        """One request to nginx, sent from the loopback address `client`."""
        return request(self.port, method, path, body, client, headers)

    def register(self, phone, client, headers=None) -> Response:
        return self.request("POST", "/api/register/", {"phone": phone}, client, headers)


@dataclass
class RawAnswer:
    """What a server sent back on a raw socket, and how the socket ended."""

    data: bytes
    closed: bool  # the server closed (or reset) the connection
    seconds: float  # from the first byte sent until the close, or until the read gave up
    answered_after: float | None = None  # seconds until the first byte of an answer
    headers: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        head, _, self.body = self.data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status_line = lines[0]
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()

    @property
    def status(self) -> int | None:
        parts = self.status_line.split()
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None

    @property
    def json(self):
        length = int(self.headers.get("content-length", len(self.body)))
        return json.loads(self.body[:length])


def exchange(
    port: int,
    data: bytes,
    *,
    address: str = "127.0.0.1",
    client: str | None = "127.0.0.1",
    trickle: bytes = b"",
    interval: float = 1.0,
    timeout: float = 10.0,
    tls: ssl.SSLContext | None = None,
    until_answered: bool = False,
) -> RawAnswer:
    """Send data, then trickle one byte of `trickle` every `interval` seconds (on and on,
    as a slow client would, whether or not an answer came), and read until the server
    closes the connection, `timeout` seconds have passed, or (with until_answered) a whole
    answer has come."""
    source = (client, 0) if client and ":" not in address else None
    sock = socket.create_connection((address, port), timeout=5, source_address=source)
    if tls is not None:
        sock = tls.wrap_socket(sock, server_hostname="localhost")
    started = time.monotonic()
    received, answered_after, pending = b"", None, list(trickle)
    # poll, not select: a long test session may hold descriptors past select's 1024.
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    try:
        sock.sendall(data)
        next_byte = started + interval
        while (now := time.monotonic()) < started + timeout:
            wait = min(next_byte, started + timeout) - now if pending else started + timeout - now
            readable = tls is not None and sock.pending()
            if not readable:
                readable = bool(poller.poll(max(0.0, wait) * 1000))
            if readable:
                try:
                    chunk = sock.recv(65536)
                except (ConnectionResetError, ssl.SSLError):
                    chunk = b""
                if not chunk:
                    return RawAnswer(received, True, time.monotonic() - started, answered_after)
                received += chunk
                answered_after = answered_after or time.monotonic() - started
                if until_answered and _complete(received):
                    return RawAnswer(received, False, time.monotonic() - started, answered_after)
            elif pending and time.monotonic() >= next_byte:
                next_byte += interval
                try:
                    sock.sendall(bytes([pending.pop(0)]))
                except (BrokenPipeError, ConnectionResetError):
                    pending = []
        return RawAnswer(received, False, time.monotonic() - started, answered_after)
    finally:
        sock.close()


def _complete(data: bytes) -> bool:
    """Whether data holds a whole answer: its head and the Content-Length it announces."""
    head, found, body = data.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False
