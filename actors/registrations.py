"""Storing a sign-up in PostgreSQL exactly once."""

from typing import Any

import dramatiq
from peewee import InterfaceError, OperationalError

from actors.attempts import (
    DUPLICATE_DETECTED,
    FAILED_RETRY,
    QUEUED,
    SUCCESS_POSTGRES,
    forward,
    status,
)
from actors.broker import broker
from actors.db import Registration, db
from actors.publisher import PublishFailed
from actors.settings import settings

QUEUE = "registrations"
REGISTERED = "registered"
DUPLICATE = "duplicate"


# Outages, not bad data: the connection to PostgreSQL or RabbitMQ broke, or a deadlock.
TRANSIENT = (OperationalError, InterfaceError, dramatiq.errors.ConnectionError, PublishFailed)


class StoreFailed(Exception):
    """Storing failed; Retries will try again. Says why without the row's values."""

    def __init__(self, reason: str, transient: bool) -> None:
        super().__init__(reason)
        self.transient = transient


def should_retry(retries: int, error: Exception) -> bool:
    """An outage is retried until it ends (a 202 is a promise); anything else MAX_RETRIES times."""
    transient = getattr(error, "transient", False) or isinstance(error, TRANSIENT)
    return transient or retries < settings.max_retries


def describe(error: Exception) -> str:
    """The error's class and SQLSTATE: PostgreSQL's own message may quote the phone number."""
    original = getattr(error, "orig", error)  # peewee keeps the psycopg2 error here
    code = getattr(original, "pgcode", None)
    diag = getattr(original, "diag", None)
    constraint = getattr(diag, "constraint_name", None)
    return f"{type(error).__name__} sqlstate={code} constraint={constraint}"


def store(attempt: dict[str, Any]) -> tuple[str, str | None]:
    """Insert the sign-up unless its phone or request_id is already there.

    Returns the outcome and, when registered, the row's created_at. A request_id already in
    the table is this very message seen again (a redelivery or a client retry): registered.
    """
    with db.atomic():
        inserted = (
            Registration.insert(
                phone=attempt["phone"],
                referrer=attempt["referrer"],
                request_id=attempt["request_id"],
                ip_address=attempt["ip"],
                user_agent=attempt["user_agent"],
            )
            .on_conflict_ignore()
            .returning(Registration.created_at)
            .execute()
        )
        row = next(iter(inserted), None)
        if row is None:
            row = Registration.get_or_none(Registration.request_id == attempt["request_id"])
        if row is None:
            return DUPLICATE, None
        return REGISTERED, row.created_at.isoformat(timespec="milliseconds")


@dramatiq.actor(queue_name=QUEUE, store_results=True, retry_when=should_retry, broker=broker)
def register(attempt: dict[str, Any]) -> str:
    """Store one sign-up (registered or duplicate) and forward the outcome to the attempt log."""
    try:
        outcome, stored_at = store(attempt)
    except Exception as error:
        forward(attempt, [status(FAILED_RETRY, error=type(error).__name__)])
        raise StoreFailed(describe(error), isinstance(error, TRANSIENT)) from None
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
