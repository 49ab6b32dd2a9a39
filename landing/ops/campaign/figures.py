"""What the campaign page shows, read cheaply: sign-ups from signup_counts (a few thousand
rows, whatever the size of registrations), the attempt log's last day (kept a while, not read
per refresh), and RabbitMQ's own counts through its management API.

Times are UTC. Each part that cannot be read is None: the page shows it as unavailable.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from peewee import Database
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

from landing.admin.stats import attempts_per_referrer
from landing.ops.dashboard.management_api import ManagementAPI
from landing.shared.signup import REGISTRATIONS

MINUTES, HOURS = 60, 48  # the per-minute and per-hour plots' spans
REFERRERS = 50  # the referrer table's rows, the most sign-ups first
WINDOW = 300  # seconds of "the last minutes": the pipeline's line and its counts
ATTEMPTS_MAX_AGE = 60.0  # seconds the attempt log's figures are reused
ATTEMPTS_SPAN = timedelta(hours=24)
ATTEMPTS_RETRY = 15.0  # seconds before an unreachable attempt log is asked again

# One round trip: the three series, each a GROUP BY over its own partition of signup_counts.
SERIES_SQL = """
    SELECT 'minute', starts_at, sum(n) FROM signup_counts
     WHERE unit = 'minute' AND starts_at >= %(minutes_from)s{only} GROUP BY 2
    UNION ALL
    SELECT 'hour', starts_at, sum(n) FROM signup_counts
     WHERE unit = 'hour' AND starts_at >= %(hours_from)s{only} GROUP BY 2
    UNION ALL
    SELECT 'day', starts_at, sum(n) FROM signup_counts
     WHERE unit = 'day'{only} GROUP BY 2
"""
REFERRERS_SQL = """
    SELECT referrer, sum(n) AS total FROM signup_counts WHERE unit = 'day'
     GROUP BY referrer HAVING sum(n) > 0 ORDER BY total DESC, referrer LIMIT %s
"""
ONLY = " AND referrer = %(referrer)s"
# Registrations verified by SMS: verifications is at most one row per registration.
VERIFIED_SQL = "SELECT count(*) FROM verifications"
VERIFIED_FROM_SQL = """
    SELECT count(*) FROM verifications JOIN registrations USING (request_id)
     WHERE coalesce(referrer, '') = %s
"""


def verified(database: Database, referrer: str | None) -> int:
    """Registrations verified by SMS, of referrer's ('' for none) or of all."""
    with database.connection_context():
        if referrer is None:
            return database.execute_sql(VERIFIED_SQL).fetchone()[0]
        return database.execute_sql(VERIFIED_FROM_SQL, [referrer]).fetchone()[0]


@dataclass
class Series:
    """Sign-ups per minute (last hour), per hour (last 48) and per day, oldest first."""

    per_minute: list[tuple[datetime, int]]
    per_hour: list[tuple[datetime, int]]
    per_day: list[tuple[datetime, int]]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.per_day)

    @property
    def last_hour(self) -> int:
        return sum(n for _, n in self.per_minute)

    @property
    def recent(self) -> int:
        """Stored in the last WINDOW seconds (whole minutes)."""
        return sum(n for _, n in self.per_minute[-(WINDOW // 60) :])

    def today(self, now: datetime) -> int:
        day = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return sum(n for at, n in self.per_day if at == day)


def series(database: Database, referrer: str | None, now: datetime) -> Series:
    """The three series of the sign-ups with that referrer ('' none, None any)."""
    minute = now.replace(second=0, microsecond=0)
    hour = minute.replace(minute=0)
    minutes_from = minute - timedelta(minutes=MINUTES - 1)
    hours_from = hour - timedelta(hours=HOURS - 1)
    values = {"minutes_from": minutes_from, "hours_from": hours_from, "referrer": referrer}
    sql = SERIES_SQL.format(only=ONLY if referrer is not None else "")
    found: dict[str, dict[datetime, int]] = {"minute": {}, "hour": {}, "day": {}}
    with database.connection_context():
        for kind, at, n in database.execute_sql(sql, values).fetchall():
            found[kind][at.astimezone(UTC)] = int(n)
    days = sorted(found["day"])
    first_day = days[0] if days else hour.replace(hour=0)
    return Series(
        per_minute=_filled(found["minute"], minutes_from, timedelta(minutes=1), MINUTES),
        per_hour=_filled(found["hour"], hours_from, timedelta(hours=1), HOURS),
        per_day=_filled(found["day"], first_day, timedelta(days=1), (hour - first_day).days + 1),
    )


def _filled(
    counts: dict[datetime, int], start: datetime, step: timedelta, length: int
) -> list[tuple[datetime, int]]:
    """length consecutive buckets from start, zero where nothing was counted."""
    return [(start + step * i, counts.get(start + step * i, 0)) for i in range(length)]


def referrers(database: Database) -> list[tuple[str, int]]:
    """The referrers with the most sign-ups, and how many each ('' for none)."""
    with database.connection_context():
        rows = database.execute_sql(REFERRERS_SQL, [REFERRERS]).fetchall()
    return [(referrer, int(total)) for referrer, total in rows]


@dataclass
class AttemptFigures:
    """The attempt log's last day per referrer, read at most every ATTEMPTS_MAX_AGE seconds:
    a day of attempts is too many to aggregate on every refresh of every open page."""

    collection: Collection
    clock: Callable[[], float] = time.monotonic
    _kept: tuple[float, dict[str, dict[str, int]]] | None = field(default=None, init=False)
    _failed: tuple[float, Exception] | None = field(default=None, init=False)

    def read(self, now: datetime) -> dict[str, dict[str, int]]:
        """The figures; the same error again, without asking, for a while after a failure
        (an unreachable MongoDB would cost every refresh its timeout)."""
        if self._failed is not None and self.clock() - self._failed[0] < ATTEMPTS_RETRY:
            raise self._failed[1]
        if self._kept is None or self.clock() - self._kept[0] > ATTEMPTS_MAX_AGE:
            try:
                found = attempts_per_referrer(self.collection, now - ATTEMPTS_SPAN)
            except PyMongoError as error:
                self._failed = (self.clock(), error)
                raise
            self._kept, self._failed = (self.clock(), found), None
        return self._kept[1]


@dataclass(frozen=True)
class Pipeline:
    """The pipeline in a line each: messages in and handled over WINDOW, the registrations
    queue's backlog and its oldest message's age, dead letters per queue, the workers
    consuming registrations."""

    published: int
    acknowledged: int
    waiting: int
    oldest_seconds: int | None
    dead_letters: dict[str, int]
    workers: int


def pipeline(api: ManagementAPI, now: datetime) -> Pipeline:
    queue = api.queue(REGISTRATIONS, WINDOW)
    stats = queue.get("message_stats") or {}
    head = queue.get("head_message_timestamp")  # the web's publisher stamps each message
    totals = api.queue_totals()
    # A worker process holds one consumer on each of its queues: those on registrations
    # are the processes that store sign-ups.
    workers = sum(1 for c in api.consumers() if c["queue"]["name"] == REGISTRATIONS)
    return Pipeline(
        published=_over_window(stats.get("publish_details")),
        acknowledged=_over_window(stats.get("ack_details")),
        waiting=int(queue.get("messages") or 0),
        oldest_seconds=max(0, int(now.timestamp() - head)) if head else None,
        dead_letters={
            name.removesuffix(".XQ"): n
            for name, n in sorted(totals.items())
            if name.endswith(".XQ") and n
        },
        workers=workers,
    )


def _over_window(details: Any) -> int:
    """How much a cumulative counter grew between its oldest and newest samples."""
    samples = (details or {}).get("samples") or []
    return int(samples[0]["sample"] - samples[-1]["sample"]) if len(samples) > 1 else 0
