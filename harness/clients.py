"""Load from client threads that sign up like a real page, each phone used once (the drills'
load: it sees every answer and retries; harness/wrk.py is the benchmark's).

A client sends a new sign-up (a fresh phone, a request_id of its own) about every
clients / rate seconds. On a 503, any other 5xx, a connection error or a timeout it sends
the SAME request_id again with backoff (0.2 s doubling to 2 s) until a definite answer
(2xx or 4xx) or until the load's end plus the grace period. Every HTTP exchange is kept.
"""

import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import count

TIMEOUT = 10.0  # seconds one HTTP exchange may take before we call it unanswered
BACKOFF = (0.2, 2.0)


@dataclass
class Exchange:
    """One HTTP request and its answer (status None: connection error or timeout)."""

    started_s: float  # since the load started
    latency_s: float
    status: int | None


@dataclass
class SignUp:
    """One visitor's sign-up and every attempt it took."""

    request_id: str
    phone: str  # kept in memory only: never printed, never written
    exchanges: list[Exchange] = field(default_factory=list)

    @property
    def final(self) -> int | None:
        """The definite answer (2xx/4xx), None if it never got one."""
        last = self.exchanges[-1].status if self.exchanges else None
        return last if last is not None and last < 500 else None


class Phones:
    """Distinct valid mobile numbers: 09<prefix><7 digits>, one prefix per drill."""

    def __init__(self, prefix: int) -> None:
        self.prefix, self._next, self._lock = prefix, count(), threading.Lock()

    def take(self) -> str:
        """A number no one has used in this run."""
        with self._lock:
            n = next(self._next)
        return f"09{self.prefix:02d}{n:07d}"


def post(port: int, signup: SignUp, t0: float, connection=None):
    """One attempt of signup; returns the connection to reuse (None after an error)."""
    body = json.dumps({"phone": signup.phone, "request_id": signup.request_id})
    headers = {"Content-Type": "application/json"}
    started = time.monotonic()
    try:
        connection = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        connection.request("POST", "/api/register/", body, headers)
        response = connection.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        if connection is not None:
            connection.close()
        connection, status = None, None
    signup.exchanges.append(Exchange(started - t0, time.monotonic() - started, status))
    return connection


class Load:
    """`clients` threads for `duration` seconds at about `rate` new sign-ups per second."""

    def __init__(self, port: int, phones: Phones, clients: int, rate: float, duration: float):
        self.port, self.phones, self.clients = port, phones, clients
        self.interval = clients / rate  # seconds between one client's new sign-ups
        self.duration, self.grace = duration, 20.0
        self.signups: list[SignUp] = []
        self.t0 = 0.0
        self.started_utc = ""
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._abort = threading.Event()

    def start(self) -> None:
        """Every client thread started; load-clock 0 is now."""
        self.t0 = time.monotonic()
        self.started_utc = datetime.now(UTC).isoformat(timespec="milliseconds")
        for n in range(self.clients):
            thread = threading.Thread(target=self._client, args=(n,), name=f"client-{n}")
            thread.daemon = True  # Ctrl-C must not wait out a client's grace period
            thread.start()
            self._threads.append(thread)

    def abort(self) -> None:
        """Stop every client at its next step (the drill failed; nobody waits for answers)."""
        self._abort.set()

    def finished(self) -> bool:
        """True once every client has its last answer (or gave up)."""
        return not any(thread.is_alive() for thread in self._threads)

    def now(self) -> float:
        """Seconds since the load started."""
        return time.monotonic() - self.t0

    def wait(self) -> list[SignUp]:
        """Every sign-up, once each client has its answers or has given up."""
        for thread in self._threads:
            thread.join()
        return self.signups

    def _client(self, n: int) -> None:
        time.sleep(self.interval * n / self.clients)  # spread the clients over one interval
        connection = None
        while (begun := self.now()) < self.duration and not self._abort.is_set():
            signup = SignUp(str(uuid.uuid4()), self.phones.take())
            with self._lock:
                self.signups.append(signup)
            connection = self._settle(signup, connection)
            time.sleep(max(0.0, self.interval - (self.now() - begun)))

    def _settle(self, signup: SignUp, connection):
        """Send until a definite answer or the end of the grace period."""
        pause = BACKOFF[0]
        while True:
            connection = post(self.port, signup, self.t0, connection)
            late = self.now() + pause > self.duration + self.grace
            if signup.final is not None or late or self._abort.is_set():
                return connection
            time.sleep(pause)
            pause = min(pause * 2, BACKOFF[1])
