"""Erasing a phone number: from PostgreSQL, the attempt history, the status store and the
exports, and for good.

A visitor may ask to be forgotten. The number is found in every form it can have been
stored in: normalised in PostgreSQL and in accepted attempts, and as typed (separators,
+98 or 0098, Persian or Arabic-Indic digits) in turned-away attempts; exports that hold it
are deleted. Messages about it may still be queued, redelivered or dead-lettered: the
erase leaves a tombstone (landing/shared/tombstones.py) that makes the workers drop them,
so the number is never stored, logged, exported or announced again unless it signs up anew.
"""

import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg2
from flask import Flask
from pymongo import ASCENDING

from landing.off_loop import call
from landing.shared.db import CONNECT_TIMEOUT
from landing.shared.exports import export_dir
from landing.shared.mongo import ATTEMPTS, ERASURES
from landing.shared.results import binding_key
from landing.shared.signup import status_key
from landing.shared.tombstones import Tombstones
from landing.shared.verification import budgets_for, record_key

_ALTERNATIVES = {str(d): f"[{d}{chr(0x06F0 + d)}{chr(0x0660 + d)}]" for d in range(10)}
_SEPARATORS = r"[ \t\-()]*"
# Inserts wait while an erase runs (SHARE ROW EXCLUSIVE): a worker's INSERT that checked the
# tombstones before this one was committed cannot land after the DELETE.
ERASE_SQL = (
    "LOCK TABLE registrations IN SHARE ROW EXCLUSIVE MODE",
    """INSERT INTO erasures (phone_hash) VALUES (%(key)s)
       ON CONFLICT (phone_hash) DO UPDATE SET erased_at = now()""",
    "DELETE FROM erasures WHERE erased_at < now() - make_interval(days => %(days)s)",
    # Its row leaves the campaign page's counts with it (schema.sql: signup_counts); a -1 in
    # any shard does, readers add the shards up.
    """WITH gone AS (
           DELETE FROM registrations WHERE phone = %(phone)s
           RETURNING request_id, created_at, coalesce(referrer, '') AS referrer
       ), unverified AS (
           DELETE FROM verifications WHERE request_id IN (SELECT request_id FROM gone)
       ), uncounted AS (
           INSERT INTO signup_counts (unit, starts_at, referrer, shard, n)
           SELECT u.unit, date_trunc(u.unit, g.created_at, 'UTC'), g.referrer,
                  pg_backend_pid() %% 4, -1
           FROM gone g CROSS JOIN (VALUES ('minute'), ('hour'), ('day')) AS u (unit)
           ON CONFLICT (unit, starts_at, md5(referrer), shard)
           DO UPDATE SET n = signup_counts.n + EXCLUDED.n
       )
       SELECT request_id FROM gone""",
)


@dataclass(frozen=True)
class Erased:
    """How many records of each store held the number (and are gone), and until when
    whatever about it is still in flight is dropped (ISO 8601)."""

    registrations: int
    attempts: int
    statuses: int
    limit_counters: int
    exports: int
    suppressed_until: str


def typed_forms(phone: str) -> re.Pattern:
    """Every way the normalised 0XXXXXXXXXX phone can have been typed, as one pattern."""
    digits = _SEPARATORS.join(_ALTERNATIVES[d] for d in phone[1:])
    prefix = rf"(?:\+{_SEPARATORS}98|0098|98|{_ALTERNATIVES['0']})"
    return re.compile(rf"^{_SEPARATORS}{prefix}?{_SEPARATORS}{digits}{_SEPARATORS}$")


def erase_phone(app: Flask, owner_url: str, phone: str) -> Erased:
    """Remove the normalised phone from every store; the counts of what was removed.

    PostgreSQL's row goes as the schema's owner: the app's own role may not delete. That
    part, and reading the exports, run off the web's event loop (they would block every
    request of the process).
    """
    config = app.config["SETTINGS"]
    key = Tombstones(config.erasure_secret).key(phone)
    days = config.erasure_retention_days
    request_ids = call(lambda: _delete_rows(owner_url, phone, key, days))
    logs = app.extensions["mongo"].get_default_database("logs")
    _leave_log_tombstone(logs[ERASURES], key, days)  # before the delete: nothing lands after
    history = logs[ATTEMPTS]
    query = {"$or": [{"phone": {"$regex": typed_forms(phone).pattern}}]}
    if request_ids:
        query["$or"].append({"request_id": {"$in": request_ids}})
    attempts = history.delete_many(query).deleted_count
    until = datetime.now(UTC) + timedelta(days=days)
    return Erased(
        registrations=len(request_ids),
        attempts=attempts,
        statuses=_erase_statuses(app, request_ids),
        limit_counters=_erase_counters(app, phone),
        exports=call(lambda: _erase_exports(export_dir(config), phone)),
        suppressed_until=until.isoformat(timespec="seconds"),
    )


def _delete_rows(owner_url: str, phone: str, key: bytes, days: int) -> list[str]:
    """Leave the tombstone and delete the phone's row, in one transaction; the request_ids
    it held. Tombstones past their retention go meanwhile."""
    conn = psycopg2.connect(owner_url, connect_timeout=CONNECT_TIMEOUT)
    values = {"key": key, "days": days, "phone": phone}
    try:
        with conn, conn.cursor() as cursor:
            for statement in ERASE_SQL:
                cursor.execute(statement, values)
            return [str(row[0]) for row in cursor.fetchall()]
    finally:
        conn.close()


def _leave_log_tombstone(collection, key: bytes, days: int) -> None:
    """The attempt log's copy of the tombstone; MongoDB drops it once it expires."""
    now = datetime.now(UTC)
    collection.create_index([("expires_at", ASCENDING)], expireAfterSeconds=0)
    collection.update_one(
        {"_id": key.hex()},
        {"$set": {"erased_at": now, "expires_at": now + timedelta(days=days)}},
        upsert=True,
    )


def _erase_exports(directory: Path, phone: str) -> int:
    """Delete every export (finished or being written) with a row of phone; how many.

    An export being written then fails and is retried, reading the table without it.
    """
    removed = 0
    for path in [*directory.glob("*.csv"), *directory.glob("*.part")]:
        with suppress(FileNotFoundError):
            if _holds(path, phone):
                path.unlink()
                removed += 1
    return removed


def _holds(path: Path, phone: str) -> bool:
    cell = f",{phone},"  # the phone column, second of each row (exports' COLUMNS)
    with path.open(encoding="utf-8", errors="replace") as lines:
        return any(cell in line for line in lines)


def _erase_statuses(app: Flask, request_ids: list[str]) -> int:
    backend = app.extensions["results"]
    keys = [backend.build_message_key(status_key(request_id)) for request_id in request_ids]
    bindings = [binding_key(request_id) for request_id in request_ids]
    if not keys:
        return 0
    deleted = backend.client.delete(*keys)
    backend.client.delete(*bindings)  # a fingerprint of the number, bound to its request_id
    # Its code record (VERIFICATION=sms): a code's HMAC and its client network. A duplicate
    # sign-up's record names only this request_id, which now leads to no number.
    backend.client.delete(*(record_key(request_id) for request_id in request_ids))
    return deleted


def _erase_counters(app: Flask, phone: str) -> int:
    """The per-phone limit's counters, and its SMS budget's: keyed by keyed hashes, which
    still identify the number."""
    client, key = app.extensions["results"].client, app.extensions["phone_keys"](phone)
    found = list(client.scan_iter(match=f"*{key}*", count=1000))
    found.append(budgets_for(app.config["SETTINGS"], client).number_key(phone))
    return client.delete(*found) if found else 0
