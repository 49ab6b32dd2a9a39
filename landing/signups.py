"""What the API does with a sign-up: accept it, and report on it."""

import logging
from typing import Any

from dramatiq.results import ResultFailure, ResultMissing
from dramatiq.results.backend import wrap_result
from flask import current_app
from redis.exceptions import RedisError
from werkzeug.exceptions import NotFound, ServiceUnavailable

from landing.shared.group_commit import FlushInterrupted
from landing.shared.publisher import PublishFailed
from landing.shared.signup import (
    Outcome,
    SignUp,
    now_iso,
    registration_message,
    status_key,
)
from landing.visitor import client_ip, user_agent

log = logging.getLogger(__name__)


def new_signup(data: dict[str, Any]) -> SignUp:
    """The sign-up a validated request makes, with who sent it and when."""
    return SignUp(
        request_id=str(data["request_id"]),
        phone=data["phone"],
        referrer=data["referrer"],
        ip=client_ip(),
        user_agent=user_agent(),
        received_at=now_iso(),
    )


def accept(signup: SignUp) -> None:
    """Return once RabbitMQ has confirmed the registration; ServiceUnavailable otherwise."""
    config = current_app.config["SETTINGS"]
    message = registration_message(signup)
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


def public_status(request_id: str) -> str:
    """queued, registered or failed: read_status with duplicate answered as registered."""
    status = read_status(request_id)
    return Outcome.REGISTERED if status == Outcome.DUPLICATE else status


def read_status(request_id: str) -> str:
    """queued, registered, duplicate or failed; NotFound for an id we never accepted."""
    backend = current_app.extensions["results"]
    try:
        return backend.get_result(status_key(request_id))
    except ResultMissing:
        raise NotFound(
            "No registration with that request_id (or its status has expired)."
        ) from None
    except ResultFailure:
        return Outcome.FAILED
    except RedisError:
        log.warning("status of %s unreadable: Redis unavailable", request_id)
        raise ServiceUnavailable(
            "Status is unavailable right now; try again shortly.", retry_after=1
        ) from None


def _mark_queued(message, ttl_seconds: int) -> bytes | None:
    backend = current_app.extensions["results"]
    encoded = backend.encoder.encode(wrap_result(Outcome.QUEUED))
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
