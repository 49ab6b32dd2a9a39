"""The log_attempt actor: every sign-up attempt, valid or not, in MongoDB's attempt history."""

from datetime import datetime
from functools import partial
from typing import Any

import dramatiq
from bson.errors import InvalidBSON, InvalidDocument, InvalidStringData

from landing.shared.mongo import attempts
from landing.shared.settings import Settings
from landing.shared.signup import ATTEMPTS, LOG_ATTEMPT, SignUp

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


def should_retry(retries: int, error: Exception, *, max_retries: int) -> bool:
    """Bad data never (straight to attempts.XQ); anything else, an outage, LOG_MAX_RETRIES times.

    A MongoDB outage (ConnectionFailure and its kin: AutoReconnect, NetworkTimeout,
    ServerSelectionTimeoutError) is retried with backoff long enough to outlast it; so is
    an unexpected server error, such as two upserts of one request_id racing (duplicate key).
    """
    return not isinstance(error, BAD_DOCUMENT) and retries < max_retries


def log_attempt(attempt: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Record an attempt once per request_id and add its statuses; replays change nothing."""
    signup = SignUp.from_message(attempt)
    history = [{**entry, "at": datetime.fromisoformat(entry["at"])} for entry in entries]
    fields = signup.as_message()
    del fields["request_id"]
    fields["received_at"] = datetime.fromisoformat(signup.received_at)
    attempts().update_one(
        {"request_id": signup.request_id},
        {"$setOnInsert": fields, "$addToSet": {"history": {"$each": history}}},
        upsert=True,
    )


def declare(broker: dramatiq.Broker, config: Settings) -> dramatiq.Actor:
    """The log_attempt actor on broker, retried for as long as LOG_MAX_RETRIES allows."""

    def run(attempt: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        log_attempt(attempt, entries)

    return dramatiq.actor(
        run,
        actor_name=LOG_ATTEMPT,
        queue_name=ATTEMPTS,
        retry_when=partial(should_retry, max_retries=config.log_max_retries),
        broker=broker,
    )
