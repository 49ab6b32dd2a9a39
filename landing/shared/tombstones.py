"""Erased numbers: what keeps an erasure final while messages about the number are in flight.

An erase removes a number from every store, but sign-ups, attempt-log entries and webhook
events about it may still be queued, redelivered, or requeued from the dead letters later.
So the erase leaves a tombstone in PostgreSQL (table `erasures`): a keyed hash of the number
(ERASURE_SECRET: a dump of the table gives no number back, and no table of hashes computed
once serves every deployment) and when it was erased. The workers look a number up before
they store, log or announce it, and drop what was received before its erasure; a sign-up
received after it is a new one and goes through. The attempt log has a copy of its own in
MongoDB (collection `landing_erasures`, the same keys), so logging never waits on
PostgreSQL. Tombstones are kept ERASURE_RETENTION_DAYS, longer than anything about the
number can wait in a queue.
"""

import hashlib
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime

from landing.shared.db import db

ERASED_SQL = "SELECT phone_hash, erased_at FROM erasures WHERE phone_hash = ANY(%s)"


class Tombstones:
    """Keyed hashes of numbers, and which (number, received) pairs an erasure covers."""

    def __init__(self, secret: str) -> None:
        self.secret = secret.encode()

    def key(self, phone: str) -> bytes:
        """The number's tombstone key: HMAC-SHA256 under ERASURE_SECRET."""
        return hmac.new(self.secret, phone.encode(), hashlib.sha256).digest()

    def _keys(self, items: Iterable[tuple[str | None, str]]) -> tuple[list, list[bytes | None]]:
        """items as a list, and each one's key (None where it carries no phone)."""
        items = list(items)
        return items, [self.key(phone) if isinstance(phone, str) else None for phone, _ in items]

    def erased(self, items: Iterable[tuple[str | None, str]], cursor=None) -> list[bool]:
        """For each (phone, received_at ISO 8601), whether an erasure at or after received_at
        covers it, by PostgreSQL's tombstones. One query for them all: on cursor (inside a
        caller's transaction), or on this thread's connection."""
        items, keys = self._keys(items)
        wanted = [key for key in keys if key is not None]
        if not wanted:
            return [False] * len(items)
        if cursor is None:
            with db.connection_context():
                rows = db.execute_sql(ERASED_SQL, (wanted,)).fetchall()
        else:
            cursor.execute(ERASED_SQL, (wanted,))
            rows = cursor.fetchall()
        return _covered(keys, items, {bytes(key): at for key, at in rows})

    def erased_in_log(self, collection, items: Iterable[tuple[str | None, str]]) -> list[bool]:
        """erased, by the attempt log's copy of the tombstones (collection, in MongoDB): the
        attempt log keeps working while PostgreSQL is down."""
        items, keys = self._keys(items)
        wanted = [key.hex() for key in keys if key is not None]
        if not wanted:
            return [False] * len(items)
        found = collection.find({"_id": {"$in": wanted}}, {"erased_at": True})
        return _covered(keys, items, {bytes.fromhex(d["_id"]): d["erased_at"] for d in found})


def _covered(keys: list, items: list, erased_at: dict[bytes, datetime]) -> list[bool]:
    return [
        key in erased_at and _aware(erased_at[key]) >= datetime.fromisoformat(received_at)
        for key, (_, received_at) in zip(keys, items, strict=True)
    ]


def _aware(moment: datetime) -> datetime:
    """MongoDB gives back UTC without its zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
