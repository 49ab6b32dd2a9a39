"""Faults that overlap and last: two of drills.faults held at once, and one long outage.

Each overlap holds longer than every timeout on the path (PUBLISH_TIMEOUT and
blocked_connection_timeout 2 s, the actor time limit 30 s, Retries' backoff capped at
5 s here), so whatever a timeout was hiding shows up. The first fault breaks, holds alone
for `lead_s` (retries and forwards are under way), then the second joins it for `hold_s`;
they are mended in reverse: the second, then the first.
"""

import math
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from drills.env import Env, Fault
from drills.faults import memory_alarm, mongo_down, node_restart, postgres_down

Action = Callable[[Env], AbstractContextManager[None]]
LEAD_S = 5.0


def overlapping(first: Action, second: Action, lead_s: float = LEAD_S) -> Action:
    """An action that enters first, lead_s later second too, and leaves them in reverse."""

    @contextmanager
    def both(env: Env) -> Iterator[None]:
        with first(env):
            time.sleep(lead_s)
            with second(env):
                yield

    return both


def overlap(name: str, first: Action, second: Action, hold_s: float, **options) -> Fault:
    """A Fault whose action is overlapping(first, second): LEAD_S alone, hold_s together."""
    action = overlapping(first, second, LEAD_S)
    return Fault(name, hold_s, action, lead_s=LEAD_S, dead_letters=True, **options)


OVERLAPS = (
    # Retries' publish of each failed attempt to registrations.DQ blocks on the alarm.
    overlap("postgres-down+memory-alarm", postgres_down, memory_alarm, 60, bounded=True),
    # A host going down with both on it: every connection cut, unacked retries redelivered.
    overlap("postgres-down+rabbitmq-node-restart", postgres_down, node_restart, 60, slack_s=12),
    # The attempt log's retries (and the registrations' forwards) meet the alarm. 35 s
    # together: with 20 retries capped at 5 s, MongoDB away much longer than ~45 s
    # dead-letters the attempt log by design, alarm or not.
    overlap("mongo-down+memory-alarm", mongo_down, memory_alarm, 35, rate=25, log=True,
            bounded=True),
)  # fmt: skip

LONG_NAME = "postgres-down-long"


def long_outage(outage_s: float, rate: float, drain_s: float) -> Fault:
    """PostgreSQL stopped outage_s seconds under rate sign-ups/s (a campaign), then the
    backlog drains within drain_s; nothing may reach registrations.XQ."""
    # Closed-loop clients: 16 reached ~130/s here while the worker spun on the outage, so
    # one client per 5 sign-ups/s (each ~200 ms per sign-up); on 2 busy shared cores 60 of
    # them still reached only ~170/s (2026-12-07): the note under the table says what was.
    return Fault(
        LONG_NAME, outage_s, postgres_down, rate=rate, slack_s=5, drain_s=drain_s,
        dead_letters=True, clients=max(16, math.ceil(rate / 5)),
    )  # fmt: skip
