"""The registration API: POST a sign-up, GET its status."""

import uuid

from flask import Blueprint, current_app, request, url_for
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from actors.attempts import INVALID, RATE_LIMITED
from landing.extensions import limiter
from landing.registrations import accept, log_rejected, new_attempt, read_status
from landing.schemas import RegistrationSchema

bp = Blueprint("api", __name__, url_prefix="/api")
schema = RegistrationSchema()


def _json_body():
    """The parsed JSON body; 415 for another content type, 400 (as invalid) when malformed."""
    try:
        return request.get_json()
    except UnsupportedMediaType:
        raise
    except BadRequest:
        raise ValidationError({"_schema": ["The body is not valid JSON."]}) from None


def _rate_limit() -> str:
    return current_app.config["SETTINGS"].rate_limit


@bp.post("/register/", strict_slashes=False)
@limiter.limit(_rate_limit)
def register():
    """Accept a sign-up: 202 once RabbitMQ holds it, 503 when it can't confirm in time."""
    attempt = new_attempt(schema.load(_json_body()))
    accept(attempt)
    location = url_for("api.registration_status", request_id=attempt["request_id"])
    body = {
        "message": "Your phone number has been accepted.",
        "request_id": attempt["request_id"],
    }
    return body, 202, {"Location": location}


@bp.after_request
def log_turned_away(response):
    """The attempt log keeps every sign-up attempt: invalid and rate-limited ones too."""
    if request.endpoint == "api.register" and 400 <= response.status_code < 500:
        log_rejected(RATE_LIMITED if response.status_code == 429 else INVALID)
    return response


@bp.get("/register/<request_id>")
def registration_status(request_id: str):
    """Say whether a sign-up is queued, registered, a duplicate, or failed for good."""
    try:
        request_id = str(uuid.UUID(request_id))
    except ValueError:
        raise BadRequest("request_id must be a UUID.") from None
    return {"request_id": request_id, "status": read_status(request_id)}
