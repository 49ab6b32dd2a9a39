"""What the API does with a sign-up: accept it, report on it, log the ones it turns away."""

import logging
import uuid
from typing import Any

from dramatiq.results import ResultFailure, ResultMissing
from dramatiq.results.backend import wrap_result
from flask import current_app, request
from redis.exceptions import RedisError
from werkzeug.exceptions import NotFound, ServiceUnavailable

from actors.attempts import log_attempt, now_iso, status
from actors.group_commit import FlushInterrupted
from actors.publisher import PublishFailed
from actors.registrations import registration_message
from landing.client import client_ip, user_agent
from landing.schemas import storable_text

log = logging.getLogger(__name__)

MAX_RAW_PHONE = 64  # a rejected phone is logged as typed, but never at any length

QUEUED = "queued"
FAILED = "failed"


def new_attempt(data: dict[str, Any]) -> dict[str, Any]:
    """The message body for a validated request: small JSON values only."""
    return {
        "request_id": str(data["request_id"]),
        "phone": data["phone"],
        "referrer": data["referrer"],
        "ip": client_ip(),
        "user_agent": user_agent(),
        "received_at": now_iso(),
    }


def accept(attempt: dict[str, Any]) -> None:
    """Return once RabbitMQ has confirmed the registration; ServiceUnavailable otherwise."""
    config = current_app.config["SETTINGS"]
    message = registration_message(attempt["request_id"], attempt)
    # The placeholder goes in before the publish so a fast worker's result overwrites it,
    # never the other way round.
    placeholder = _mark_queued(message, config.result_ttl)
    try:
        current_app.extensions["publisher"].publish(message)
    except PublishFailed as error:
        log.warning("registration %s refused, broker unavailable: %s", message.message_id, error)
        if placeholder:
            _unmark_queued(message, placeholder)
        raise ServiceUnavailable(
            "We could not take your registration right now; please try again shortly.",
            retry_after=max(1, round(config.publish_timeout)),
        ) from None


def read_status(request_id: str) -> str:
    """queued, registered, duplicate or failed; NotFound for an id we never accepted."""
    backend = current_app.extensions["results"]
    try:
        return backend.get_result(registration_message(request_id))
    except ResultMissing:
        raise NotFound(
            "No registration with that request_id (or its status has expired)."
        ) from None
    except ResultFailure:
        return FAILED
    except RedisError:
        log.warning("status of %s unreadable: Redis unavailable", request_id)
        raise ServiceUnavailable("Status is unavailable right now; try again shortly.") from None


def log_rejected(status_name: str) -> None:
    """Log a turned-away attempt (invalid or rate limited); best effort, never blocks.

    Every value is cleaned first (client_ip, user_agent, _raw_phone), so the log message is
    always one MongoDB can store: an unencodable one would fail on every retry.
    """
    attempt = {
        "request_id": str(uuid.uuid4()),
        "phone": _raw_phone(),
        "referrer": None,
        "ip": client_ip(),
        "user_agent": user_agent(),
        "received_at": now_iso(),
    }
    message = log_attempt.message(attempt, [status(status_name)])
    current_app.extensions["publisher"].publish_later(message)


def _raw_phone() -> str | None:
    """Whatever the client sent as phone, cut short and storable, when the body is readable.

    Surrogates and control characters become U+FFFD rather than vanish, so the log still
    shows that the typed number held something it should not.
    """
    try:
        body = request.get_json(silent=True)
    except Exception:  # too large, or not JSON: there is nothing to keep
        return None
    phone = body.get("phone") if isinstance(body, dict) else None
    if not isinstance(phone, str):
        return None
    return storable_text(phone, MAX_RAW_PHONE, control="\ufffd")


def _mark_queued(message, ttl_seconds: int) -> bytes | None:
    backend = current_app.extensions["results"]
    encoded = backend.encoder.encode(wrap_result(QUEUED))
    try:
        current_app.extensions["placeholders"].submit(
            (backend.build_message_key(message), encoded, ttl_seconds * 1000)
        )
    except (RedisError, FlushInterrupted):  # ours failed, or the shared write it was in
        # Fail open: the registration matters more than its status page.
        log.warning(
            "status placeholder for %s not stored: Redis unavailable",
            message.message_id,
        )
        return None
    return encoded


def _unmark_queued(message, placeholder: bytes) -> None:
    """Drop our placeholder but not a result a worker may have stored meanwhile."""
    backend = current_app.extensions["results"]
    try:
        backend.client.lrem(backend.build_message_key(message), 0, placeholder)
    except RedisError:
        log.warning(
            "status placeholder for %s left behind: Redis unavailable",
            message.message_id,
        )
