"""The code step (VERIFICATION=sms): a sign-up's visitor sends back the code we texted.

POST /api/register/<request_id>/verify {code}: right, and the registration is verified (200
once RabbitMQ holds the record_verification message); wrong, 400 with the guesses left;
past its time or its guesses, 410 (ask for another). Their codes are their statuses' own
(invalid, gone): a wrong code's body says attempts_left, a malformed one's says fields.
POST .../resend: another code, unless the last one went out less than
VERIFICATION_RESEND_COOLDOWN ago (429 with Retry-After). Both are limited per address
(VERIFICATION_RATE_LIMIT) and answer 404 when verification is off. The registration itself
never waits on any of this: it is stored whatever happens here.
"""

import logging
import math
import uuid
from datetime import UTC, datetime
from typing import NoReturn

from flask import Blueprint, Flask, current_app, request
from marshmallow import ValidationError
from redis.exceptions import RedisError
from werkzeug.exceptions import BadRequest, NotFound, ServiceUnavailable, TooManyRequests

from landing.admission.limiter import limiter
from landing.errors import error_response
from landing.schemas import VerifySchema
from landing.shared.publisher import PublishFailed
from landing.shared.signup import send_code_message, verification_message
from landing.shared.verification import Check, Codes, codes_for

log = logging.getLogger(__name__)
bp = Blueprint("verification", __name__, url_prefix="/api")
NO_CODE = "No code was sent for that request_id, or it has expired."


schema = VerifySchema()


def verification_limit() -> str:
    return current_app.config["SETTINGS"].verification_rate_limit


def _codes() -> Codes:
    """The app's code records; NotFound when verification is off."""
    if current_app.config["SETTINGS"].verification != "sms":
        raise NotFound("Phone verification is off.")
    return current_app.extensions["codes"]


def _request_id(raw: str) -> str:
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise BadRequest("request_id must be a UUID.") from None


def _publish(message) -> None:
    try:
        current_app.extensions["publisher"].publish(message)
    except PublishFailed:
        raise ServiceUnavailable("Please try again shortly.", retry_after=1) from None


def _redis_down(error: RedisError) -> NoReturn:
    log.warning("verification unavailable: Redis %s", type(error).__name__)
    raise ServiceUnavailable("Please try again shortly.", retry_after=1) from None


@bp.post("/register/<request_id>/verify")
@limiter.limit(verification_limit)
def verify(request_id: str):
    """Check a code: 200 verified, 400 wrong, 410 expired or out of guesses."""
    codes, request_id = _codes(), _request_id(request_id)
    body = request.get_json(silent=True)
    try:
        if body is None and request.get_data():  # something was sent, but not JSON
            raise ValidationError({"_schema": ["The body is not valid JSON."]})
        code = schema.load({} if body is None else body)["code"]
    except ValidationError as error:
        return error_response(400, "Some fields are not valid.", fields=error.messages)
    try:
        guess = codes.guess(request_id, code)
    except RedisError as error:
        _redis_down(error)
    if guess.check is Check.UNKNOWN:
        raise NotFound(NO_CODE)
    if guess.check is Check.WRONG:
        return error_response(400, "That code is not right.", attempts_left=guess.left)
    if guess.check is Check.LOCKED:
        return error_response(410, "Too many wrong codes; ask for a new one.")
    if guess.check is Check.EXPIRED:
        return error_response(410, "That code has expired; ask for a new one.")
    at = datetime.fromtimestamp(guess.at, UTC).isoformat(timespec="milliseconds")
    _publish(verification_message(guess.target, at))
    return {"request_id": request_id, "verification": "verified"}


@bp.post("/register/<request_id>/resend")
@limiter.limit(verification_limit)
def resend(request_id: str):
    """Send another code: 202, or 429 while the last one is too recent."""
    codes, request_id = _codes(), _request_id(request_id)
    try:
        wait = codes.claim_resend(request_id)
    except KeyError:
        raise NotFound(NO_CODE) from None
    except RedisError as error:
        _redis_down(error)
    if wait is not None:
        raise TooManyRequests(
            "A code was sent moments ago; wait before asking again.", retry_after=math.ceil(wait)
        )
    _publish(send_code_message(request_id, None, None))
    location = f"{request.script_root}/api/register/{request_id}"
    body = {"request_id": request_id, "message": "A new code is on its way."}
    return body, 202, {"Location": location}


def verification_state(request_id: str) -> str | None:
    """What the status answer says of a registered sign-up's code step: None when
    verification is off; pending (a code is or will be sent), verified, or unavailable (no
    code can be sent to it: not a mobile number, or a budget spent)."""
    if current_app.config["SETTINGS"].verification != "sms":
        return None
    try:
        record = current_app.extensions["codes"].read(request_id)
    except RedisError:
        return "pending"
    if record.get("verified"):
        return "verified"
    return "unavailable" if record.get("state") in ("not_mobile", "over_budget") else "pending"


def init_verification(app: Flask) -> None:
    """The code step's routes, and the code records on the statuses' Redis."""
    settings = app.config["SETTINGS"]
    app.extensions["codes"] = codes_for(settings, app.extensions["results"].client)
    app.register_blueprint(bp)
