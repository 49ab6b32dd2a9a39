"""Logging every sign-up attempt, valid or not, to MongoDB."""

from datetime import UTC, datetime
from typing import Any

import dramatiq
from bson.errors import InvalidBSON, InvalidDocument, InvalidStringData

from actors.broker import broker
from actors.mongo import attempts
from actors.publisher import Publisher
from actors.settings import settings

QUEUE = "attempts"

# The statuses an attempt's history can hold.
QUEUED = "QUEUED"
SUCCESS_POSTGRES = "SUCCESS_POSTGRES"
DUPLICATE_DETECTED = "DUPLICATE_DETECTED"
INVALID = "INVALID"
RATE_LIMITED = "RATE_LIMITED"
FAILED_RETRY = "FAILED_RETRY"


# Bad data: a value BSON cannot encode (a lone surrogate, a NUL in a key, an integer over
# 64 bits, a document over 16 MiB) or an attempt without the fields it needs, or not a dict.
# Every retry would fail the same way.
BAD_DOCUMENT = (
    InvalidDocument,
    InvalidStringData,
    InvalidBSON,
    UnicodeEncodeError,
    OverflowError,
    KeyError,
    TypeError,
    ValueError,
    AttributeError,
)


def should_retry(retries: int, error: Exception) -> bool:
    """Bad data never (straight to attempts.XQ); anything else, an outage, LOG_MAX_RETRIES times.

    A MongoDB outage (ConnectionFailure and its kin: AutoReconnect, NetworkTimeout,
    ServerSelectionTimeoutError) is retried with backoff long enough to outlast it; so is
    an unexpected server error, such as two upserts of one request_id racing (duplicate key).
    """
    return not isinstance(error, BAD_DOCUMENT) and retries < settings.log_max_retries


def now_iso() -> str:
    """UTC now, in milliseconds (what BSON keeps), as the ISO text messages carry."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def status(name: str, at: str | None = None, error: str | None = None) -> dict[str, Any]:
    """One entry of an attempt's status history."""
    entry = {"status": name, "at": at or now_iso()}
    if error:
        entry["error"] = error
    return entry


# Actors hand their outcome to the log on one pipelined, confirmed connection per process:
# a broker send would wait for its confirm alone, holding a thread for a disk flush.
_forwarder = Publisher.for_settings(settings)


def forward(attempt: dict[str, Any], statuses: list[dict[str, Any]]) -> None:
    """Queue a log entry and return once RabbitMQ has confirmed it (PublishFailed if not)."""
    _forwarder.publish(log_attempt.message(attempt, statuses))


@dramatiq.actor(queue_name=QUEUE, retry_when=should_retry, broker=broker)
def log_attempt(attempt: dict[str, Any], statuses: list[dict[str, Any]]) -> None:
    """Record an attempt once per request_id and add its statuses; replays change nothing."""
    history = [{**entry, "at": datetime.fromisoformat(entry["at"])} for entry in statuses]
    fields = {k: v for k, v in attempt.items() if k not in ("request_id", "received_at")}
    fields["received_at"] = datetime.fromisoformat(attempt["received_at"])
    attempts().update_one(
        {"request_id": attempt["request_id"]},
        {"$setOnInsert": fields, "$addToSet": {"history": {"$each": history}}},
        upsert=True,
    )
