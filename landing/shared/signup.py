"""The sign-up record and the messages that carry it: what the web and the workers agree on.

A message carries a sign-up as a small JSON object (SignUp.as_message); a worker reads it
back with SignUp.from_message, which ignores fields it does not know, so a newer web can add
one while older workers still run. The actor and queue names below are part of every
message in flight: renaming one strands the messages already queued under the old name.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, uuid5

import dramatiq

# The web sends the sign-ups its requests accepted meanwhile as one register_batch message
# (one publish, one confirm, one message for a worker to take for the lot). The register
# actor stores a single sign-up; its message id is the request_id: a batch hands it the
# sign-ups PostgreSQL refuses, so each fails (into the dead letters) on its own.
REGISTRATIONS = "registrations"
REGISTER = "register"
REGISTER_BATCH = "register_batch"
# The log_attempt actor records every attempt, valid or not, in MongoDB's attempt history;
# log_attempts does the same for a batch's attempts in one message and one bulk write;
# log_turned_away records a batch of turned-away attempts in one message and one write.
ATTEMPTS = "attempts"
LOG_ATTEMPT = "log_attempt"
LOG_ATTEMPTS = "log_attempts"
LOG_TURNED_AWAY = "log_turned_away"
# export_registrations writes a CSV export an operator asked for (the operator API).
EXPORTS = "exports"
EXPORT_REGISTRATIONS = "export_registrations"
# deliver_webhook POSTs one new registration to WEBHOOK_URL.
WEBHOOKS = "webhooks"
DELIVER_WEBHOOK = "deliver_webhook"
# send_code texts a sign-up's number its one-time code (VERIFICATION=sms), on a queue the
# webhooks' process consumes too: both wait on someone else's HTTP server. record_verification
# stores that a code came back, on the registrations queue (a PostgreSQL write, promised).
SMS = "sms"
SEND_CODE = "send_code"
RECORD_VERIFICATION = "record_verification"
QUEUES = (REGISTRATIONS, ATTEMPTS, EXPORTS, WEBHOOKS, SMS)


class Outcome:
    """A registration's status as GET /api/register/<request_id> reports it."""

    QUEUED = "queued"
    REGISTERED = "registered"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    # Its request_id is stored for another number: a client sent one id with two numbers.
    # The first is stored; this one is not, and is never answered registered.
    CONFLICT = "conflict"
    # Its number was erased after it was received: not stored, logged or announced, and its
    # status reads as unknown (404).
    ERASED = "erased"


class History:
    """The statuses an attempt's history (in MongoDB) can hold."""

    QUEUED = "QUEUED"
    SUCCESS_POSTGRES = "SUCCESS_POSTGRES"
    DUPLICATE_DETECTED = "DUPLICATE_DETECTED"
    INVALID = "INVALID"
    RATE_LIMITED = "RATE_LIMITED"
    CONFLICT = "CONFLICT"  # its request_id was already taken by another number
    FAILED_RETRY = "FAILED_RETRY"


@dataclass(frozen=True, slots=True)
class SignUp:
    """One sign-up attempt, as the web received it: accepted, or turned away."""

    request_id: str
    phone: str | None
    referrer: str | None
    ip: str | None
    user_agent: str | None
    received_at: str  # ISO 8601, UTC, in milliseconds (what BSON keeps)

    def as_message(self) -> dict[str, Any]:
        """The JSON object a message carries."""
        # Not dataclasses.asdict: it deep-copies every value, and this runs per sign-up.
        return {field: getattr(self, field) for field in FIELDS}

    @classmethod
    def from_message(cls, body: Any) -> "SignUp":
        """The sign-up a message carries; KeyError or TypeError when it is not one."""
        return cls(*[body[field] for field in FIELDS])


FIELDS = tuple(field.name for field in fields(SignUp))


def now_iso() -> str:
    """UTC now, in milliseconds, as the ISO text messages carry."""
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def history_entry(name: str, at: str | None = None, error: str | None = None) -> dict[str, Any]:
    """One entry of an attempt's history."""
    entry = {"status": name, "at": at or now_iso()}
    if error:
        entry["error"] = error
    return entry


def registration_message(attempt: object) -> dramatiq.Message:
    """The register message for one sign-up; its message id is the request_id.

    A worker that finds an item of a batch it cannot read sends it on as it came (a dict,
    or anything else, keyed by a fresh id), to fail on its own into the dead letters.
    """
    body = attempt.as_message() if isinstance(attempt, SignUp) else attempt
    request_id = body.get("request_id") if isinstance(body, dict) else None
    return _message(
        REGISTRATIONS, REGISTER, (body,), request_id if isinstance(request_id, str) else None
    )


def registration_batch_message(signups: list[SignUp]) -> dramatiq.Message:
    """One register_batch message for sign-ups accepted together (a fresh message id)."""
    return _message(REGISTRATIONS, REGISTER_BATCH, ([s.as_message() for s in signups],))


def status_key(request_id: str) -> dramatiq.Message:
    """A stub register message: enough to find the request's result in the Results backend."""
    return _message(REGISTRATIONS, REGISTER, (), request_id)


def attempt_message(
    attempt: SignUp | dict[str, Any], entries: list[dict[str, Any]]
) -> dramatiq.Message:
    """The log_attempt message adding entries to an attempt's history.

    A worker that could not read a register message still records what arrived (a dict).
    """
    body = attempt.as_message() if isinstance(attempt, SignUp) else attempt
    return _message(ATTEMPTS, LOG_ATTEMPT, (body, entries))


def attempts_message(
    batch: Sequence[tuple[SignUp | dict[str, Any], list[dict[str, Any]]]],
) -> dramatiq.Message:
    """One log_attempts message adding entries to the history of each attempt in batch."""
    return _message(
        ATTEMPTS,
        LOG_ATTEMPTS,
        ([[a.as_message() if isinstance(a, SignUp) else a, entries] for a, entries in batch],),
    )


def turned_away_message(batch: list[tuple[SignUp, list[dict[str, Any]]]]) -> dramatiq.Message:
    """One log_turned_away message for a batch of turned-away attempts and their entries."""
    return _message(
        ATTEMPTS, LOG_TURNED_AWAY, ([[signup.as_message(), entries] for signup, entries in batch],)
    )


def _message(
    queue: str, actor: str, args: tuple[Any, ...], message_id: str | None = None
) -> dramatiq.Message:
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=queue, actor_name=actor, args=args, kwargs={}, options={}
    )
    return message.copy(message_id=message_id) if message_id else message


# The events a webhook delivers, and the fields each JSON body holds, in this order (a
# verified one adds verified_at).
REGISTRATION_CREATED = "registration.created"
REGISTRATION_VERIFIED = "registration.verified"
WEBHOOK_FIELDS = ("event", "request_id", "phone", "referrer", "created_at")


def webhook_message(signup: SignUp, created_at: str) -> dramatiq.Message:
    """The deliver_webhook message announcing a new registration to WEBHOOK_URL.

    The phone goes in full: the receiver is the campaign owner's CRM, which needs the number
    to call it. The message id, the receiver's idempotency key, is derived from the event and
    the request_id, so a register message redelivered (and announced again) keeps its key.
    """
    event = {
        "event": REGISTRATION_CREATED,
        "request_id": signup.request_id,
        "phone": signup.phone,
        "referrer": signup.referrer,
        "created_at": created_at,
    }
    delivery_id = uuid5(NAMESPACE_URL, f"landing:{REGISTRATION_CREATED}:{signup.request_id}")
    return _message(WEBHOOKS, DELIVER_WEBHOOK, (event,), str(delivery_id))


def verified_webhook_message(event: dict[str, Any]) -> dramatiq.Message:
    """The deliver_webhook message announcing that a registration's number was verified:
    the registration's fields and verified_at; its id derived like a creation's."""
    body = {"event": REGISTRATION_VERIFIED, **event}
    delivery_id = uuid5(NAMESPACE_URL, f"landing:{REGISTRATION_VERIFIED}:{event['request_id']}")
    return _message(WEBHOOKS, DELIVER_WEBHOOK, (body,), str(delivery_id))


def send_code_message(request_id: str, phone: str | None, ip: str | None) -> dramatiq.Message:
    """The send_code message for a stored sign-up (its number and address), or for a resend
    (request_id alone: the worker finds the number again)."""
    return _message(SMS, SEND_CODE, (request_id, phone, ip))


def verification_message(request_id: str, verified_at: str) -> dramatiq.Message:
    """The record_verification message: the registration stored under request_id was verified."""
    return _message(REGISTRATIONS, RECORD_VERIFICATION, (request_id, verified_at))
