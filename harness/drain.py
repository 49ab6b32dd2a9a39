"""Waiting for the backlog: when were the promises kept, and when did everything settle?

"Backlog gone" is the first moment after the undo at which every sign-up answered 202
before the undo has its row. "Settled" is the end of the drain: the load is over, no
message is ready or unacked in the queue or its .DQ, and the row count has stopped moving.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass

import psycopg2

from harness.clients import Load
from harness.rows import RowCounter

POLL = 1.0  # seconds between looks (a rabbitmqctl call costs ~0.4 s of CPU)
STABLE_POLLS = 2  # nothing in flight and the count unchanged this many looks in a row


class Settling:
    """Counts consecutive quiet looks: nothing in flight and an unchanged count."""

    def __init__(self, in_flight: Callable[[], int], counter: Callable[[], int | None]) -> None:
        self.in_flight, self.counter = in_flight, counter
        self.last, self.quiet = None, 0

    def look(self) -> bool:
        """True once quiet STABLE_POLLS times in a row."""
        try:
            busy, value = self.in_flight() > 0, self.counter()
        except Exception:  # a service still coming back: not settled yet
            busy, value = True, None
        unchanged = value is not None and value == self.last
        self.quiet = self.quiet + 1 if unchanged and not busy else 0
        self.last = value
        return self.quiet >= STABLE_POLLS


def wait_settled(in_flight, counter, timeout: float) -> float | None:
    """The monotonic time everything settled; None if not within timeout seconds."""
    settling, deadline = Settling(in_flight, counter), time.monotonic() + timeout
    while time.monotonic() < deadline:
        if settling.look():
            return time.monotonic()
        time.sleep(POLL)
    return None


@dataclass
class Drain:
    """When the drain's two moments came (see the module docstring)."""

    gone_at: float | None  # monotonic; None: some pre-undo 202 never got its row
    settled: bool


def _all_stored(watch: RowCounter, promised: int) -> bool:
    """True once every promised request_id has its row (False while PostgreSQL is away)."""
    try:
        return not promised or watch.count() == promised
    except psycopg2.Error:  # PostgreSQL restarting: look again next time
        return False


def drain(load: Load, promised: list[str], database_url: str, in_flight, timeout: float) -> Drain:
    """Watch until the load is over and the queue settled, at most timeout seconds after
    the load's end; note when the promises made before the undo were all kept."""
    watch, counter = RowCounter(database_url, promised), RowCounter(database_url)
    settling, gone_at = Settling(in_flight, counter), None
    deadline = load.t0 + load.duration + load.grace + timeout
    try:
        while time.monotonic() < deadline:
            if gone_at is None and _all_stored(watch, len(promised)):
                gone_at = time.monotonic()
            if load.finished() and settling.look():
                return Drain(gone_at, True)
            time.sleep(POLL)
        return Drain(gone_at, False)
    finally:
        watch.close()
        counter.close()
