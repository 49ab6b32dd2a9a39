"""PostgreSQL's side of registering: sign-ups stored in one statement, errors described.

Each worker thread hands its sign-ups to one group commit per process (store_many): whoever
holds the turn writes every thread's sign-ups waiting meanwhile in one INSERT and one commit.
"""

import uuid
from collections.abc import Sequence
from functools import partial

# peewee's stubs leave out the wrapper that turns psycopg2's errors into peewee's own.
from peewee import __exception_wrapper__ as peewee_errors  # type: ignore[attr-defined]
from psycopg2.extras import execute_values

from landing.shared.db import db
from landing.shared.failures import Kind, classify
from landing.shared.group_commit import GroupCommit
from landing.shared.signup import Outcome, SignUp
from landing.shared.tombstones import Tombstones


def describe(error: Exception) -> str:
    """The error's class and SQLSTATE: PostgreSQL's own message may quote the phone number."""
    original = getattr(error, "orig", error)  # peewee keeps the psycopg2 error here
    code = getattr(original, "pgcode", None)
    diag = getattr(original, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    return f"{type(error).__name__} sqlstate={code} constraint={constraint}"


# One multi-row statement for a batch. ON CONFLICT DO NOTHING skips a row whose phone or
# request_id is taken, by an earlier row or by another row of the same batch; NOT EXISTS
# one whose number was erased after it was received (an erase locks the table against
# inserts until its tombstone is committed, so none slips between). The rows it did insert,
# and only those, are added to signup_counts in the same statement: a batch seen again
# inserts nothing, so it counts nothing. Counters go in key order so two batches lock alike,
# each into its connection's shard, so that workers' commits do not queue on one counter.
INSERT_SQL = """
    WITH inserted AS (
        INSERT INTO registrations (phone, referrer, request_id, ip_address, user_agent)
        SELECT v.phone, v.referrer, v.request_id::uuid, v.ip::inet, v.user_agent
        FROM (VALUES %s) AS v (phone, referrer, request_id, ip, user_agent, phone_hash, received_at)
        WHERE NOT EXISTS (
            SELECT 1 FROM erasures e
            WHERE e.phone_hash = v.phone_hash::bytea AND e.erased_at >= v.received_at::timestamptz
        )
        ON CONFLICT DO NOTHING
        RETURNING request_id, created_at, phone, referrer
    ), counted AS (
        INSERT INTO signup_counts (unit, starts_at, referrer, shard, n)
        SELECT u.unit, date_trunc(u.unit, i.created_at, 'UTC'), coalesce(i.referrer, ''),
               pg_backend_pid() %% 4, count(*)
        FROM inserted i CROSS JOIN (VALUES ('minute'), ('hour'), ('day')) AS u (unit)
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, md5(coalesce(i.referrer, ''))
        ON CONFLICT (unit, starts_at, md5(referrer), shard)
        DO UPDATE SET n = signup_counts.n + EXCLUDED.n
    )
    SELECT request_id, created_at, phone FROM inserted
"""
# Rows the INSERT skipped: a request_id already there is this very sign-up seen again, or,
# stored with another number, a request_id a client reused.
STORED_SQL = """
    SELECT request_id, created_at, phone FROM registrations WHERE request_id = ANY(%s::uuid[])
"""


def insert_batch(batch: Sequence[SignUp], tombstones: Tombstones) -> list[tuple[str, str | None]]:
    """Insert the sign-ups unless their phone or request_id is already stored, or their
    number was erased after they were received; in one commit.

    Returns (outcome, created_at) per attempt, in order. A request_id already in the table
    with the same number is this very sign-up seen again (a redelivery or a client retry):
    registered, with the stored row's time; with another number, a conflict (never reported
    registered: that number is not stored). An erased one is erased. Rows go in phone order
    so two workers' batches lock alike.
    """
    # str() first: a request_id of the wrong kind is a ValueError, like a malformed one.
    ids = [str(uuid.UUID(str(signup.request_id))) for signup in batch]
    rows = sorted(
        (
            (s.phone, s.referrer, rid, s.ip, s.user_agent, _key(tombstones, s), s.received_at)
            for s, rid in zip(batch, ids, strict=True)
        ),
        key=lambda row: str(row[0]),
    )
    # peewee's wrapper: psycopg2's errors come out as peewee's, as from any other query.
    with db.atomic(), peewee_errors:
        cursor = db.cursor()
        inserted = execute_values(cursor, INSERT_SQL, rows, page_size=len(rows), fetch=True)
        stored = {str(request_id): (at, phone) for request_id, at, phone in inserted}
        skipped = [request_id for request_id in ids if request_id not in stored]
        if skipped:
            cursor.execute(STORED_SQL, (skipped,))
            stored.update((str(r), (at, phone)) for r, at, phone in cursor.fetchall())
        missing = [s for s, rid in zip(batch, ids, strict=True) if rid not in stored]
        erased = tombstones.erased([(s.phone, s.received_at) for s in missing], cursor)
    gone = {s.request_id for s, was in zip(missing, erased, strict=True) if was}
    pairs = zip(batch, ids, strict=True)
    return [_outcome(signup, stored.get(rid), signup.request_id in gone) for signup, rid in pairs]


def _key(tombstones: Tombstones, signup: SignUp) -> bytes | None:
    return tombstones.key(signup.phone) if isinstance(signup.phone, str) else None


def _outcome(signup: SignUp, stored: tuple | None, erased: bool) -> tuple[str, str | None]:
    """A sign-up's outcome given the row stored under its request_id, if any."""
    if erased:
        return Outcome.ERASED, None
    if stored is None:
        return Outcome.DUPLICATE, None  # its number was stored under another request_id
    created_at, phone = stored
    if phone != signup.phone:
        return Outcome.CONFLICT, None
    return Outcome.REGISTERED, created_at.isoformat(timespec="milliseconds")


def write(
    batch: Sequence[SignUp], tombstones: Tombstones
) -> list[tuple[str, str | None] | Exception]:
    """GroupCommit's writer: the batch in one statement. If PostgreSQL refused it for its
    data, each row on its own, so one bad row fails only its own message; an outage fails
    the whole batch at once (row by row it would only fail again, a connection attempt each)."""
    try:
        return list[tuple[str, str | None] | Exception](insert_batch(batch, tombstones))
    except Exception as error:
        if len(batch) == 1 or classify(error) is Kind.TRANSIENT:
            return [error] * len(batch)
    if not db.is_closed():
        db.close()  # a broken connection goes back to the pool, which drops it
    return [_insert_one(signup, tombstones) for signup in batch]


def _insert_one(signup: SignUp, tombstones: Tombstones) -> tuple[str, str | None] | Exception:
    try:
        return insert_batch([signup], tombstones)[0]
    except Exception as error:
        return error


class Rows:
    """A worker process's sign-up writer: every thread's sign-ups share one group commit
    (GroupCommit), erased numbers kept out (Tombstones)."""

    def __init__(self, tombstones: Tombstones) -> None:
        self._commit = GroupCommit(partial(write, tombstones=tombstones))

    def store(self, signup: SignUp) -> tuple[str, str | None]:
        """Store one sign-up, in a batch with whatever other threads are storing."""
        return self._commit.submit(signup)

    def store_many(self, signups: Sequence[SignUp]) -> list[tuple[str, str | None] | Exception]:
        """Store sign-ups (with other threads' waiting ones): each one's outcome or its error."""
        return self._commit.submit_many(signups)
