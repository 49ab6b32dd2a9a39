"""The registration API: POST a sign-up, GET its status."""

import uuid

from flask import Blueprint, current_app, request
from marshmallow import ValidationError
from werkzeug.exceptions import BadRequest, HTTPException, UnsupportedMediaType

from landing.admission import proof
from landing.admission.limiter import challenge_rate_limit, limiter, status_rate_limit
from landing.admission.refused import refused_past_limit
from landing.errors import handle_http_exception, handle_validation_error
from landing.schemas import RegistrationSchema, without_unknown_fields
from landing.shared.signup import History
from landing.signups import accept, new_signup, public_status
from landing.turned_away import record_rejected
from landing.verification import verification_state

bp = Blueprint("api", __name__, url_prefix="/api")
schema = RegistrationSchema()

# Sign-ups turned away: too large, not JSON, a request_id taken by another number, too many.
TURNED_AWAY = {
    409: History.CONFLICT,
    413: History.INVALID,
    415: History.INVALID,
    429: History.RATE_LIMITED,
}


def _json_body():
    """The parsed JSON body; 415 for another content type, 400 (as invalid) when malformed."""
    try:
        return request.get_json()
    except UnsupportedMediaType:
        raise
    except BadRequest:
        raise ValidationError({"_schema": ["The body is not valid JSON."]}) from None


@bp.post("/register/", strict_slashes=False)
@limiter.exempt  # its limits are the gate's, counted with its other writes (landing.admission)
def register():
    """Accept a sign-up: 202 once RabbitMQ holds it, 503 when it can't confirm in time.

    The answer is the same whether the number is new or already registered. When a solved
    challenge is required (CHALLENGE_MODE), one without it is refused: 403.
    """
    data = schema.load(_json_body())
    if (refused := proof.refusal(data["altcha"], str(data["request_id"]))) is not None:
        return refused
    signup = new_signup(data)
    accept(signup)
    # registration_status's URL; url_for would cost ~2% of a sign-up's CPU (py-spy).
    location = f"{request.script_root}{bp.url_prefix}/register/{signup.request_id}"
    body = {
        "message": "Your phone number has been accepted.",
        "request_id": signup.request_id,
    }
    if current_app.config["SETTINGS"].verification == "sms":
        body["verify_by"] = "sms"  # the page waits for the code step (AcceptedSchema)
    return body, 202, {"Location": location}


@bp.errorhandler(ValidationError)
def invalid(error: ValidationError):
    """A sign-up the schema refuses: 400, and an INVALID entry in the attempt history.

    It counts against its address's limit: past it, the answer is 429 instead.
    """
    if (limited := refused_past_limit()) is not None:
        record_rejected(History.RATE_LIMITED)
        return handle_http_exception(limited)
    record_rejected(History.INVALID)
    return handle_validation_error(without_unknown_fields(error, schema))


def turned_away(error: HTTPException):
    """A sign-up refused before validation: its error, and an entry in the attempt history."""
    if request.endpoint == "api.register":
        error = refused_past_limit(error.code) or error  # past its address's limit: 429
        code = error.code or 400  # every error this handler is registered for has its code
        # A taken request_id is another number's: this attempt is recorded under an id of its own.
        record_rejected(TURNED_AWAY[code], claim_id=code != 409)
    return handle_http_exception(error)


for _code in TURNED_AWAY:
    bp.register_error_handler(_code, turned_away)


@bp.get("/challenge")
@limiter.limit(challenge_rate_limit)
def challenge():
    """A new signed challenge: solve it, then send the solution with a sign-up (altcha)."""
    issued = current_app.extensions["challenges"].issue()
    return issued, 200, {"Cache-Control": "no-store"}


@bp.get("/register/<request_id>")
@limiter.limit(status_rate_limit)
def registration_status(request_id: str):
    """Say whether a sign-up is queued, registered, or failed for good.

    A number that was already registered answers registered too: the status must not tell
    a visitor whether someone else signed that number up before.
    """
    try:
        request_id = str(uuid.UUID(request_id))
    except ValueError:
        raise BadRequest("request_id must be a UUID.") from None
    answer = {"request_id": request_id, "status": public_status(request_id)}
    # With VERIFICATION=sms a registered sign-up also says where its code step stands.
    if answer["status"] == "registered" and (state := verification_state(request_id)):
        answer["verification"] = state
    return answer
