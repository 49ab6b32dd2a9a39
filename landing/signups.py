"""What the API does with a sign-up: accept it, and report on it."""

import logging
from typing import Any

from dramatiq.results import ResultFailure, ResultMissing
from flask import current_app
from redis.exceptions import RedisError
from werkzeug.exceptions import Conflict, NotFound, ServiceUnavailable, TooManyRequests

from landing.admission.refusals import Limited, RequestIdTaken
from landing.shared.group_commit import FlushInterrupted
from landing.shared.publisher import PublishFailed
from landing.shared.signup import Outcome, SignUp, now_iso, status_key
from landing.visitor import client_ip, user_agent

log = logging.getLogger(__name__)
UNKNOWN = "No registration with that request_id (or its status has expired)."


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
    """Return once RabbitMQ has confirmed the registration.

    TooManyRequests when its address or number used its allowance up; Conflict when its
    request_id was sent before with another number; ServiceUnavailable when the broker did
    not confirm in time (the number's allowance and status are given back).
    """
    try:
        current_app.extensions["intake"].submit(signup)
    except Limited as limited:
        raise TooManyRequests(str(limited), retry_after=limited.retry_after) from None
    except RequestIdTaken as taken:
        raise Conflict(str(taken)) from None
    except (PublishFailed, FlushInterrupted) as error:
        log.warning("registration %s refused, broker unavailable: %s", signup.request_id, error)
        raise ServiceUnavailable(
            "We could not take your registration right now; please try again shortly.",
            retry_after=max(1, round(current_app.config["SETTINGS"].publish_timeout)),
        ) from None


def public_status(request_id: str) -> str:
    """queued, registered, failed or conflict: read_status with duplicate answered as
    registered, and an erased number's sign-up as unknown (404)."""
    status = read_status(request_id)
    if status == Outcome.ERASED:
        raise NotFound(UNKNOWN)
    return Outcome.REGISTERED if status == Outcome.DUPLICATE else status


def read_status(request_id: str) -> str:
    """queued, registered, duplicate or failed; NotFound for an id we never accepted."""
    backend = current_app.extensions["results"]
    try:
        return backend.get_result(status_key(request_id))
    except ResultMissing:
        raise NotFound(UNKNOWN) from None
    except ResultFailure:
        return Outcome.FAILED
    except RedisError:
        log.warning("status of %s unreadable: Redis unavailable", request_id)
        raise ServiceUnavailable(
            "Status is unavailable right now; try again shortly.", retry_after=1
        ) from None
