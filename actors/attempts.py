"""The log_attempt actor: every sign-up attempt, valid or not, in MongoDB's attempt history."""

import uuid
from datetime import datetime
from typing import Any

import dramatiq
from pymongo import UpdateOne

from actors.retries import RetryPolicy
from landing.shared.mongo import attempts, erasures
from landing.shared.phones import canonical
from landing.shared.settings import Settings
from landing.shared.signup import (
    ATTEMPTS,
    LOG_ATTEMPT,
    LOG_ATTEMPTS,
    LOG_TURNED_AWAY,
    SignUp,
)
from landing.shared.tombstones import Tombstones


def log_attempt(attempt: dict[str, Any], entries: list[dict[str, Any]]) -> None:
    """Record an attempt once per request_id and add its statuses; replays change nothing."""
    attempts().update_one(*_recording(attempt, entries), upsert=True)


def log_attempts(batch: list[list[Any]]) -> None:
    """log_attempt for each [attempt, entries] of a batch, in one bulk write."""
    changes = [UpdateOne(*_recording(a, entries), upsert=True) for a, entries in batch]
    if changes:
        attempts().bulk_write(changes, ordered=False)


def _recording(attempt: dict[str, Any], entries: list[dict[str, Any]]) -> tuple[dict, dict]:
    """The upsert's filter and change: attempt recorded once under its request_id, entries
    added to its history."""
    signup = SignUp.from_message(attempt)
    history = [{**entry, "at": datetime.fromisoformat(entry["at"])} for entry in entries]
    fields = signup.as_message()
    del fields["request_id"]
    fields["received_at"] = datetime.fromisoformat(signup.received_at)
    return (
        {"request_id": signup.request_id},
        {"$setOnInsert": fields, "$addToSet": {"history": {"$each": history}}},
    )


def log_turned_away(batch: list[list[Any]]) -> None:
    """Record a batch of turned-away attempts in one write; none changes another's document.

    A turned-away attempt is only ever inserted: under the request_id its client sent, unless
    a document already holds that id (someone else's attempt, or a replay of this batch), in
    which case it is recorded under a new id with the one it claimed beside it.
    """
    documents = [_document(SignUp.from_message(attempt), entries) for attempt, entries in batch]
    taken = _insert_only(documents)
    fresh = [
        {**document, "request_id": str(uuid.uuid4()), "claimed_request_id": document["request_id"]}
        for document in documents
        if document["request_id"] in taken and not _already_recorded(document)
    ]
    if fresh:
        _insert_only(fresh)


def _document(signup: SignUp, entries: list[dict[str, Any]]) -> dict[str, Any]:
    document = signup.as_message()
    document["received_at"] = datetime.fromisoformat(signup.received_at)
    document["history"] = [{**e, "at": datetime.fromisoformat(e["at"])} for e in entries]
    return document


def _insert_only(documents: list[dict[str, Any]]) -> set[str]:
    """Insert each document unless its request_id is taken; the request_ids that were."""
    requests = [
        UpdateOne({"request_id": d["request_id"]}, {"$setOnInsert": d}, upsert=True)
        for d in documents
    ]
    result = attempts().bulk_write(requests, ordered=False)
    inserted = set(result.upserted_ids or {})
    return {d["request_id"] for i, d in enumerate(documents) if i not in inserted}


def _already_recorded(document: dict[str, Any]) -> bool:
    """This very attempt is stored already (a replayed batch), under its id or a new one."""
    same = {"received_at": document["received_at"], "history": document["history"]}
    claimed = {"claimed_request_id": document["request_id"], **same}
    return (
        attempts().count_documents(
            {"$or": [{"request_id": document["request_id"], **same}, claimed]}, limit=1
        )
        > 0
    )


def unerased(tombstones: Tombstones, batch: list[list[Any]]) -> list[list[Any]]:
    """The batch's [attempt, entries] but those of a number erased after it was received
    (an attempt's phone as typed counts in any form the web would have read it in)."""
    items = [(_phone_of(attempt), _received_at(attempt)) for attempt, _ in batch]
    erased = tombstones.erased_in_log(erasures(), items)
    return [item for item, gone in zip(batch, erased, strict=True) if not gone]


def _phone_of(attempt: Any) -> str | None:
    phone = attempt.get("phone") if isinstance(attempt, dict) else None
    return canonical(phone) if isinstance(phone, str) else None


def _received_at(attempt: Any) -> str:
    received_at = attempt.get("received_at") if isinstance(attempt, dict) else None
    return received_at if isinstance(received_at, str) else "0001-01-01T00:00:00+00:00"


def declare(broker: dramatiq.Broker, config: Settings) -> tuple[dramatiq.Actor, ...]:
    """The log_attempt, log_attempts and log_turned_away actors on broker; none logs a
    number erased after its attempt was received.

    A MongoDB outage, or an unexpected server error such as two upserts of one request_id
    racing (duplicate key), is retried LOG_MAX_RETRIES times, with backoff long enough to
    outlast it; an attempt BSON cannot encode, or without the fields it needs, never.
    """
    retry = RetryPolicy(config.log_max_retries)
    tombstones = Tombstones(config.erasure_secret)

    def one(attempt: dict[str, Any], entries: list[dict[str, Any]]) -> None:
        if unerased(tombstones, [[attempt, entries]]):
            log_attempt(attempt, entries)

    def many(batch: list[list[Any]]) -> None:
        log_attempts(unerased(tombstones, batch))

    def turned_away(batch: list[list[Any]]) -> None:
        log_turned_away(unerased(tombstones, batch))

    return tuple(
        dramatiq.actor(actor_name=name, queue_name=ATTEMPTS, retry_when=retry, broker=broker)(fn)
        for fn, name in ((one, LOG_ATTEMPT), (many, LOG_ATTEMPTS), (turned_away, LOG_TURNED_AWAY))
    )
