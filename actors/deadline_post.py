"""One HTTP POST under one deadline for all of it: connect, TLS, send, and the answer.

The standard library's HTTP client (what urllib runs on, and the only one in
requirements.txt) applies its timeout to each socket operation: a receiver that answers a
byte every few seconds restarts the clock with each byte and holds a worker thread for as
long as it likes. So the exchange runs in a helper thread, the caller waits for it at most
the deadline, and then shuts the socket down, which wakes a blocked read or write at once.
A name lookup cannot be interrupted: the caller still returns at the deadline, and the
helper ends when the lookup does (its result discarded, its connection never used).
"""

import socket
import ssl
import threading
from contextlib import suppress
from http.client import HTTPConnection, HTTPSConnection
from urllib.parse import urlsplit


class DeadlinePassed(TimeoutError):
    """The receiver had not answered when the delivery's deadline came."""


class _Cut(HTTPConnection):
    """A connection the caller can cut from another thread; once cut, it never connects."""

    cut = False

    def connect(self) -> None:
        super().connect()
        if self.cut:  # the deadline passed during the lookup or the handshake
            self.close()
            raise DeadlinePassed("cut before connecting")

    def cut_now(self) -> None:
        self.cut = True
        sock = self.sock
        if sock is not None:
            # The plain socket's shutdown, also under TLS: SSLSocket's own would drop its
            # SSL object under the reading thread's feet. OSError: the helper closed it.
            with suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)


class _HTTP(_Cut, HTTPConnection):
    pass


class _HTTPS(_Cut, HTTPSConnection):
    pass


def post(url: str, body: bytes, headers: dict[str, str], seconds: float) -> int:
    """POST body to url and return the status of the answer, all of it within seconds.

    Raises DeadlinePassed when the answer's status and headers have not all arrived in
    time, OSError or http.client.HTTPException when the exchange fails sooner. A redirect
    is not followed: its status is returned like any other. The answer's body is not read.
    """
    parts = urlsplit(url)
    if parts.hostname is None:  # actors.webhooks.check refuses such a URL at the start
        raise ValueError("the URL has no host")
    connection: _Cut
    if parts.scheme == "https":
        connection = _HTTPS(
            parts.hostname, parts.port, timeout=seconds, context=ssl.create_default_context()
        )
    else:
        connection = _HTTP(parts.hostname, parts.port, timeout=seconds)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    # What the helper leaves for the caller: the status, or what it raised.
    status: list[int] = []
    failure: list[BaseException] = []

    def exchange() -> None:
        try:
            connection.request("POST", target, body, headers)
            status.append(connection.getresponse().status)
        except BaseException as error:  # handed to the caller, who re-raises it
            failure.append(error)
        finally:
            connection.close()

    helper = threading.Thread(target=exchange, name="webhook-post", daemon=True)
    helper.start()
    helper.join(seconds)
    if helper.is_alive():
        connection.cut_now()
        raise DeadlinePassed(f"no answer within {seconds:g} s")
    if failure:
        raise failure[0]
    return status[0]
