"""The register actor: storing a sign-up in PostgreSQL exactly once."""

import uuid
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import dramatiq
from peewee import DataError, IntegrityError, InterfaceError, OperationalError
from peewee import __exception_wrapper__ as peewee_errors
from playhouse.pool import MaxConnectionsExceeded
from psycopg2.extras import execute_values

from landing.shared.db import db
from landing.shared.group_commit import FlushInterrupted, GroupCommit
from landing.shared.publisher import PublishFailed
from landing.shared.settings import Settings
from landing.shared.signup import (
    REGISTER,
    REGISTRATIONS,
    History,
    Outcome,
    SignUp,
    attempt_message,
    history_entry,
)

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


def should_retry(retries: int, error: Exception, *, max_retries: int) -> bool:
    """An outage until it ends (a 202 is a promise); bad data never; anything else MAX_RETRIES.

    Bad data goes straight to registrations.XQ, where an operator can fix the cause and
    requeue it, instead of holding the message through MAX_RETRIES backoffs first.
    """
    if getattr(error, "transient", False) or isinstance(error, TRANSIENT):
        return True
    permanent = getattr(error, "permanent", False) or isinstance(error, PERMANENT)
    return not permanent and retries < max_retries


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


def insert_batch(batch: Sequence[SignUp]) -> list[tuple[str, str | None]]:
    """Insert the sign-ups unless their phone or request_id is already stored; in one commit.

    Returns (outcome, created_at) per attempt, in order. A request_id already in the table is
    this very message seen again (a redelivery or a client retry): registered, with the
    stored row's time. Rows go in phone order so two workers' batches lock alike.
    """
    # str() first: a request_id of the wrong kind is a ValueError, like a malformed one.
    ids = [str(uuid.UUID(str(signup.request_id))) for signup in batch]
    rows = sorted(
        (s.phone, s.referrer, request_id, s.ip, s.user_agent)
        for s, request_id in zip(batch, ids, strict=True)
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
        (Outcome.REGISTERED, stored[request_id].isoformat(timespec="milliseconds"))
        if request_id in stored
        else (Outcome.DUPLICATE, None)
        for request_id in ids
    ]


def write(batch: Sequence[SignUp]) -> list[tuple[str, str | None] | Exception]:
    """GroupCommit's writer: the batch in one statement; if that fails, each row on its own,
    so one row PostgreSQL refuses (or a deadlock) fails only its own message."""
    try:
        return insert_batch(batch)
    except Exception as error:
        if len(batch) == 1:
            return [error]
    if not db.is_closed():
        db.close()  # a broken connection goes back to the pool, which drops it
    return [_insert_one(signup) for signup in batch]


def _insert_one(signup: SignUp) -> tuple[str, str | None] | Exception:
    try:
        return insert_batch([signup])[0]
    except Exception as error:
        return error


_store = GroupCommit(write)


def store(signup: SignUp) -> tuple[str, str | None]:
    """Store one sign-up, in a batch with whatever other threads of this process are storing."""
    return _store.submit(signup)


def register(
    attempt: dict[str, Any],
    forward: Callable[[dramatiq.Message], None],
    notify: Callable[[SignUp, str], None] | None = None,
) -> str:
    """Store one sign-up (registered or duplicate) and forward the outcome to its history.

    forward returns once RabbitMQ has the history message: the outcome is recorded before
    the registration's own message is acknowledged. notify, when given, does the same with
    a new registration's webhook message (never a duplicate's).
    """
    try:
        signup = SignUp.from_message(attempt)
        outcome, stored_at = store(signup)
    except Exception as error:
        failed = history_entry(History.FAILED_RETRY, error=type(error).__name__)
        forward(attempt_message(attempt, [failed]))
        transient = isinstance(error, TRANSIENT)
        permanent = not transient and isinstance(error, PERMANENT)
        raise StoreFailed(describe(error), transient, permanent) from None
    final = (
        history_entry(History.SUCCESS_POSTGRES, at=stored_at)
        if outcome == Outcome.REGISTERED
        else history_entry(History.DUPLICATE_DETECTED)
    )
    forward(attempt_message(signup, [history_entry(History.QUEUED, at=signup.received_at), final]))
    if notify is not None and outcome == Outcome.REGISTERED:
        notify(signup, stored_at)
    return outcome


def declare(
    broker: dramatiq.Broker, config: Settings, forward: Callable, notify: Callable | None = None
) -> dramatiq.Actor:
    """The register actor on broker; forward publishes (and confirms) history messages,
    notify a new registration's webhook message (actors.webhooks.notifier)."""

    def run(attempt: dict[str, Any]) -> str:
        return register(attempt, forward, notify)

    return dramatiq.actor(
        run,
        actor_name=REGISTER,
        queue_name=REGISTRATIONS,
        store_results=True,
        retry_when=partial(should_retry, max_retries=config.max_retries),
        broker=broker,
    )
