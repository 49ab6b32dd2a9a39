"""Storing a sign-up in PostgreSQL exactly once."""

import uuid
from collections.abc import Sequence
from typing import Any

import dramatiq
from peewee import DataError, IntegrityError, InterfaceError, OperationalError
from peewee import __exception_wrapper__ as peewee_errors
from playhouse.pool import MaxConnectionsExceeded
from psycopg2.extras import execute_values

from actors.attempts import (
    DUPLICATE_DETECTED,
    FAILED_RETRY,
    QUEUED,
    SUCCESS_POSTGRES,
    forward,
    status,
)
from actors.broker import broker
from actors.db import db
from actors.group_commit import FlushInterrupted, GroupCommit
from actors.publisher import PublishFailed
from actors.settings import settings

QUEUE = "registrations"
REGISTERED = "registered"
DUPLICATE = "duplicate"


# Outages, not bad data: the connection to PostgreSQL or RabbitMQ broke, a deadlock, every
# pooled connection busy, or the batch our row was in was interrupted before it was written.
TRANSIENT = (
    OperationalError,
    InterfaceError,
    MaxConnectionsExceeded,  # a ValueError, so it must be told apart before PERMANENT
    dramatiq.errors.ConnectionError,
    PublishFailed,
    FlushInterrupted,
)
# Bad data: PostgreSQL refuses the row (a constraint, a value too long, not an address), a
# string it cannot take (not UTF-8, or a NUL: psycopg2 raises ValueError), or an attempt
# lacking a field or holding the wrong kind. Every retry would fail the same way.
PERMANENT = (
    DataError,  # peewee's: its wrapper turns every psycopg2 error into its own class
    IntegrityError,
    UnicodeEncodeError,
    KeyError,
    TypeError,
    ValueError,
)


class StoreFailed(Exception):
    """Storing failed, for now (transient) or for good (permanent). Says why without values."""

    def __init__(self, reason: str, transient: bool, permanent: bool = False) -> None:
        super().__init__(reason)
        self.transient = transient
        self.permanent = permanent


def should_retry(retries: int, error: Exception) -> bool:
    """An outage until it ends (a 202 is a promise); bad data never; anything else MAX_RETRIES.

    Bad data goes straight to registrations.XQ, where an operator can fix the cause and
    requeue it, instead of holding the message through MAX_RETRIES backoffs first.
    """
    if getattr(error, "transient", False) or isinstance(error, TRANSIENT):
        return True
    permanent = getattr(error, "permanent", False) or isinstance(error, PERMANENT)
    return not permanent and retries < settings.max_retries


def describe(error: Exception) -> str:
    """The error's class and SQLSTATE: PostgreSQL's own message may quote the phone number."""
    original = getattr(error, "orig", error)  # peewee keeps the psycopg2 error here
    code = getattr(original, "pgcode", None)
    diag = getattr(original, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    return f"{type(error).__name__} sqlstate={code} constraint={constraint}"


# One multi-row statement for a batch. ON CONFLICT DO NOTHING skips a row whose phone or
# request_id is taken, by an earlier row or by another row of the same batch.
INSERT_SQL = """
    INSERT INTO registrations (phone, referrer, request_id, ip_address, user_agent)
    VALUES %s
    ON CONFLICT DO NOTHING
    RETURNING request_id, created_at
"""
# Rows the INSERT skipped: a request_id already there is this very message seen again.
STORED_SQL = "SELECT request_id, created_at FROM registrations WHERE request_id = ANY(%s::uuid[])"


def insert_batch(batch: Sequence[dict[str, Any]]) -> list[tuple[str, str | None]]:
    """Insert the sign-ups unless their phone or request_id is already stored; in one commit.

    Returns (outcome, created_at) per attempt, in order. A request_id already in the table is
    this very message seen again (a redelivery or a client retry): registered, with the
    stored row's time. Rows go in phone order so two workers' batches lock alike.
    """
    # str() first: a request_id of the wrong kind is a ValueError, like a malformed one.
    ids = [str(uuid.UUID(str(attempt["request_id"]))) for attempt in batch]
    rows = sorted(
        (a["phone"], a["referrer"], request_id, a["ip"], a["user_agent"])
        for a, request_id in zip(batch, ids, strict=True)
    )
    # peewee's wrapper: psycopg2's errors come out as peewee's, as from any other query.
    with db.atomic(), peewee_errors:
        cursor = db.cursor()
        inserted = execute_values(cursor, INSERT_SQL, rows, page_size=len(rows), fetch=True)
        stored = {str(request_id): at for request_id, at in inserted}
        skipped = [request_id for request_id in ids if request_id not in stored]
        if skipped:
            cursor.execute(STORED_SQL, (skipped,))
            stored.update((str(request_id), at) for request_id, at in cursor.fetchall())
    return [
        (REGISTERED, stored[request_id].isoformat(timespec="milliseconds"))
        if request_id in stored
        else (DUPLICATE, None)
        for request_id in ids
    ]


def write(batch: Sequence[dict[str, Any]]) -> list[tuple[str, str | None] | Exception]:
    """GroupCommit's writer: the batch in one statement; if that fails, each row on its own,
    so one row PostgreSQL refuses (or a deadlock) fails only its own message."""
    try:
        return insert_batch(batch)
    except Exception as error:
        if len(batch) == 1:
            return [error]
    if not db.is_closed():
        db.close()  # a broken connection goes back to the pool, which drops it
    return [_insert_one(attempt) for attempt in batch]


def _insert_one(attempt: dict[str, Any]) -> tuple[str, str | None] | Exception:
    try:
        return insert_batch([attempt])[0]
    except Exception as error:
        return error


_store = GroupCommit(write)


def store(attempt: dict[str, Any]) -> tuple[str, str | None]:
    """Store one sign-up, in a batch with whatever other threads of this process are storing."""
    return _store.submit(attempt)


@dramatiq.actor(queue_name=QUEUE, store_results=True, retry_when=should_retry, broker=broker)
def register(attempt: dict[str, Any]) -> str:
    """Store one sign-up (registered or duplicate) and forward the outcome to the attempt log."""
    try:
        outcome, stored_at = store(attempt)
    except Exception as error:
        forward(attempt, [status(FAILED_RETRY, error=type(error).__name__)])
        transient = isinstance(error, TRANSIENT)
        permanent = not transient and isinstance(error, PERMANENT)
        raise StoreFailed(describe(error), transient, permanent) from None
    final = (
        status(SUCCESS_POSTGRES, at=stored_at)
        if outcome == REGISTERED
        else status(DUPLICATE_DETECTED)
    )
    forward(attempt, [status(QUEUED, at=attempt["received_at"]), final])
    return outcome


def registration_message(
    request_id: str, attempt: dict[str, Any] | None = None
) -> dramatiq.Message:
    """The register message for a request; its message id is the request_id.

    Without an attempt it is a stub, enough to look the result up in the Results backend.
    """
    args = (attempt,) if attempt is not None else ()
    return register.message_with_options(args=args).copy(message_id=request_id)
