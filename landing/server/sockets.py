"""The sockets gunicorn's gevent worker serves on: each answer in one send, new connections
taken in bursts, and a listening socket's name that outlives it."""

from gevent.server import StreamServer


class HeadWithBody:
    """A request's client socket as gunicorn's Response writes to it: the first sendall, the
    response head, is held and goes out with the body's first bytes, in one send. (A 103
    Early Hints would be the first instead and go out late, with the head: our apps send none.)

    gunicorn sends a head, then the body: two sends per answer, each a syscall inside
    gevent's send loop (~5% of a sign-up's CPU at c=64, py-spy), and two packets where one
    does. Anything else asked of the socket (sendfile for a download, shutdown after an
    error) sends what is held first; so does flush(), when the request is over.
    """

    __slots__ = ("_held", "_sock", "_started")

    def __init__(self, sock) -> None:
        self._sock, self._held, self._started = sock, b"", False

    def sendall(self, data) -> None:
        if not self._started:  # the head: the body (or the request's end) follows
            self._started, self._held = True, bytes(data)
            return
        if self._held:
            data, self._held = b"".join((self._held, data)), b""
        self._sock.sendall(data)

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, b""
            self._sock.sendall(held)

    def __getattr__(self, name: str):
        self.flush()
        return getattr(self._sock, name)


class EagerAcceptServer(StreamServer):
    """gevent's server, taking up to ACCEPT_BURST waiting connections per turn of its loop
    however many sibling processes share the socket.

    gunicorn's gevent worker takes one per turn when it has siblings, to spread connections
    over them. Under load a turn runs every request that is ready, tens of milliseconds, so
    a burst of new connections (a proxy opening more to keep up, clients arriving at a
    campaign's peak) waited in the listen queue for seconds: with 1,024 new connections,
    wrk timed requests out at 5 s and nginx's connects to us timed out into 502s. Each
    process still stops accepting at WEB_CONNECTIONS, and siblings wake for the same
    queue, so connections still spread; a small burst keeps one process from taking a whole
    burst alone (with 100, gevent's default, 1,024 split 200 / 800). The worker uses it only
    when it has siblings: alone, gunicorn leaves gevent's 100.
    """

    # At c=1024 with wrk: 8 took every connection within a second, 0 timeouts (1: ~250 per 8 s).
    ACCEPT_BURST = 8

    @property
    def max_accept(self) -> int:
        return self.ACCEPT_BURST

    @max_accept.setter
    def max_accept(self, value: int) -> None:
        pass  # gunicorn's 1 (with more than one process) is what this server replaces


class NamedListener:
    """A listening socket as gunicorn's handle() sees it, its name read while it was open.

    handle() asks a connection's listening socket for its name first thing. A process that
    recycles (max_requests) closes that socket at once, and a connection it had accepted
    but not yet started (EagerAcceptServer takes up to ACCEPT_BURST in one turn) then failed
    with EBADF and was closed unanswered: its visitor saw a reset, nginx a 502. Everything
    else is the socket's own.
    """

    __slots__ = ("_name", "_sock")

    def __init__(self, sock, name) -> None:
        self._sock, self._name = sock, name

    def getsockname(self):
        return self._name

    def __getattr__(self, name: str):
        return getattr(self._sock, name)
