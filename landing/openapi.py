"""The public API's OpenAPI 3.1 document, built from the marshmallow schemas with apispec.

Request and response bodies come from landing/schemas.py, so a field added there shows up
here without another edit. What the schemas cannot say (the status codes, the error codes
of landing/error_body.py, the headers) is written once below. init_openapi builds it once per
app; landing/api_docs.py serves it, and renders it as the docs page.
"""

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask

from landing import api_docs
from landing.error_body import code_for
from landing.schemas import (
    PHONE_HELP,
    AcceptedSchema,
    ChallengeSchema,
    CodeRefusedSchema,
    ErrorSchema,
    HealthSchema,
    InvalidFieldsSchema,
    RegistrationSchema,
    RegistrationStatusSchema,
    ResendSchema,
    VerifiedSchema,
    VerifySchema,
)

OPENAPI_VERSION = "3.1.0"
VERSION = "0.1.0"  # pyproject.toml's
JSON = "application/json"

HEADERS = {
    "X-Request-ID": {
        "description": "This request's id, as every log line about it carries it.",
        "required": True,
        "schema": {"type": "string", "pattern": "^[A-Za-z0-9._:-]{1,128}$"},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "required": True,
        "schema": {"type": "integer", "minimum": 1},
    },
    "Location": {
        "description": "The sign-up's status URL: GET it to follow the registration.",
        "required": True,
        "schema": {"type": "string", "format": "uri-reference"},
    },
}

# Each error response: its status code, when it is answered (README's tables), its body.
ERRORS = {
    "Invalid": (
        400,
        "A field, or the body, is not valid; `fields` says which and why. A field the "
        "schema does not know is named nowhere: `_schema` lists the accepted ones.",
        "InvalidFields",
    ),
    "BadRequestId": (400, "request_id is not a UUID.", "Error"),
    "ChallengeRefused": (
        403,
        "A solved challenge is required now (CHALLENGE_MODE) and none came "
        "(`challenge_required`), or the one sent is forged, expired or was spent on another "
        "sign-up (`challenge_invalid`). Nothing is stored or counted against the number: GET "
        "/api/challenge, solve it, and send the same request again with `altcha`.",
        "Error",
    ),
    "Conflict": (
        409,
        "This request_id was sent before with another number; nothing is stored or counted "
        "for this one. Send a new request_id.",
        "Error",
    ),
    "NotFound": (404, "No sign-up with that request_id, or its status has expired.", "Error"),
    "TooLarge": (413, "The body is over MAX_BODY_BYTES (4 KiB by default).", "Error"),
    "UnsupportedMediaType": (415, "The body is not sent as application/json.", "Error"),
    "RateLimited": (429, "Too many requests from this client, or for this number.", "Error"),
    "Unavailable": (503, "A service the answer needs did not answer in time.", "Error"),
    # The code step (VERIFICATION=sms).
    "CodeRefused": (
        400,
        "A wrong code (`attempts_left` says how many guesses remain), a malformed one "
        "(`fields`), or a request_id that is not a UUID.",
        "CodeRefused",
    ),
    "NoCode": (
        404,
        "Verification is off, or no code was sent for that request_id (or it has expired).",
        "Error",
    ),
    "CodeGone": (
        410,
        "The code expired, or had too many wrong guesses: ask for a new one.",
        "Error",
    ),
    "ResendTooSoon": (
        429,
        "A code went out less than VERIFICATION_RESEND_COOLDOWN ago, or too many requests "
        "from this client.",
        "Error",
    ),
}
RETRY = {429, 503}  # the errors whose answer says when to come back
# The errors answered with codes other than their status's own (landing/error_body.py).
NAMED_CODES = {"ChallengeRefused": ("challenge_required", "challenge_invalid")}

# What marshmallow's fields cannot say about themselves: how a value is read, and examples
# (schemathesis sends these too, so its runs include accepted sign-ups).
FIELD_NOTES = {
    "phone": {
        "description": f"{PHONE_HELP} Spaces, dashes, parentheses, Persian and Arabic-Indic "
        "digits and a +98, 0098 or 98 prefix are accepted; the result must be 0 and ten "
        "digits, and is what is stored.",
        "examples": ["09123456789", "+98 912 345 6789", "۰۹۱۲-۳۴۵-۶۷۸۹"],
    },
    "referrer": {
        "description": "Where the visitor came from: valid Unicode, no control characters.",
        "examples": ["newsletter"],
    },
    "request_id": {
        "description": "Send your own to make retries safe; generated when absent. It is "
        "bound to the first number sent with it: the same id with another number is a 409.",
        "examples": ["df205b63-3225-4700-9abd-acce1bfefb3f"],
    },
    "altcha": {
        "description": "A solved challenge (GET /api/challenge), when a 403 asked for one: "
        "base64 of the JSON {algorithm, challenge, number, salt, signature}, where number is "
        "the one whose SHA-256(salt + number) is the challenge (ALTCHA's scheme). Each "
        "solution serves one sign-up (its request_id) and expires with its challenge; "
        "ignored while none is required.",
    },
}


def init_openapi(app: Flask) -> None:
    """Serve the document (built once, here) and its docs page."""
    app.extensions["openapi"] = build_document()
    app.register_blueprint(api_docs.bp)


def build_document() -> dict:
    """The whole document, as /api/openapi.json serves it."""
    spec = APISpec(
        title="landing",
        version=VERSION,
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin()],
        info={"description": "Sign up a phone number, then follow its registration."},
    )
    _add_components(spec)
    spec.path(path="/api/register/", operations={"post": _register()})
    spec.path(path="/api/register/{request_id}", operations={"get": _status()})
    spec.path(path="/api/challenge", operations={"get": _challenge()})
    spec.path(path="/api/register/{request_id}/verify", operations={"post": _verify()})
    spec.path(path="/api/register/{request_id}/resend", operations={"post": _resend()})
    spec.path(path="/health", operations={"get": _health()})
    return spec.to_dict()


def _add_components(spec: APISpec) -> None:
    for name, schema in {
        "Registration": RegistrationSchema,
        "Accepted": AcceptedSchema,
        "Challenge": ChallengeSchema,
        "RegistrationStatus": RegistrationStatusSchema,
        "Health": HealthSchema,
        "Error": ErrorSchema,
        "InvalidFields": InvalidFieldsSchema,
        "Verify": VerifySchema,
        "Verified": VerifiedSchema,
        "Resent": ResendSchema,
        "CodeRefused": CodeRefusedSchema,
    }.items():
        spec.components.schema(name, schema=schema)
    registration = spec.components.schemas["Registration"]["properties"]
    for name, notes in FIELD_NOTES.items():
        registration[name].update(notes)
    for name, header in HEADERS.items():
        spec.components.header(name, header)
    for name, (status, description, schema_name) in ERRORS.items():
        codes = NAMED_CODES.get(name, (code_for(status),))
        spec.components.response(name, _error(status, description, schema_name, codes))


def _error(status: int, description: str, schema: str, codes: tuple[str, ...]) -> dict:
    """A response in the one error shape, its `error` one of codes (the status code's own,
    unless it is answered with others)."""
    headers = ["X-Request-ID", *(["Retry-After"] if status in RETRY else [])]
    error = {"const": codes[0]} if len(codes) == 1 else {"enum": list(codes)}
    body = {
        "allOf": [{"$ref": f"#/components/schemas/{schema}"}],
        "properties": {"error": error},
    }
    return _response(description, body, headers)


def _response(description: str, schema: dict | str, headers: list[str]) -> dict:
    return {
        "description": description,
        "headers": {name: {"$ref": f"#/components/headers/{name}"} for name in headers},
        "content": {JSON: {"schema": schema}},
    }


def _refs(*names: str) -> dict:
    return {name: {"$ref": f"#/components/responses/{name}"} for name in names}


def _codes(responses: dict[str, dict], extra: dict) -> dict:
    """Responses keyed by status code: the successful ones given, the errors by name."""
    for name, ref in extra.items():
        responses[str(ERRORS[name][0])] = ref
    return dict(sorted(responses.items()))


def _register() -> dict:
    accepted = _response(
        "RabbitMQ holds the sign-up: the promise that it will be stored. The same answer "
        "whether the number is new or not. With VERIFICATION=sms the body adds verify_by: a "
        "code step follows once it is stored, and its status (Location) says when.",
        "Accepted",
        ["X-Request-ID", "Location"],
    )
    accepted["links"] = {
        "GetStatus": {
            "operationId": "getRegistrationStatus",
            "parameters": {"request_id": "$response.body#/request_id"},
        }
    }
    errors = _refs(
        "Invalid",
        "ChallengeRefused",
        "Conflict",
        "TooLarge",
        "UnsupportedMediaType",
        "RateLimited",
        "Unavailable",
    )
    return {
        "operationId": "register",
        "summary": "Sign a phone number up",
        "description": "Accepted once RabbitMQ has confirmed it; a worker then stores it. "
        "On a 503, retry with the same request_id.",
        "requestBody": {"required": True, "content": {JSON: {"schema": "Registration"}}},
        "responses": _codes({"202": accepted}, errors),
    }


REQUEST_ID = {
    "name": "request_id",
    "in": "path",
    "required": True,
    "description": "The request_id a 202 answered with.",
    "schema": {"type": "string", "format": "uuid"},
}


def _verify() -> dict:
    verified = _response(
        "The code is right: the registration is recorded as verified (RabbitMQ holds it). "
        "Sending it again answers the same.",
        "Verified",
        ["X-Request-ID"],
    )
    return {
        "operationId": "verifyCode",
        "summary": "Send back the code texted to the number (VERIFICATION=sms)",
        "description": "Each code allows VERIFICATION_ATTEMPTS guesses within "
        "VERIFICATION_CODE_TTL seconds. A sign-up is stored whether or not it is verified.",
        "parameters": [REQUEST_ID],
        "requestBody": {"required": True, "content": {JSON: {"schema": "Verify"}}},
        "responses": _codes(
            {"200": verified},
            _refs("CodeRefused", "NoCode", "CodeGone", "TooLarge", "RateLimited", "Unavailable"),
        ),
    }


def _resend() -> dict:
    resent = _response(
        "A new code will be sent (the last one stops working).",
        "Resent",
        ["X-Request-ID", "Location"],
    )
    return {
        "operationId": "resendCode",
        "summary": "Ask for another code (VERIFICATION=sms)",
        "parameters": [REQUEST_ID],
        "responses": _codes(
            {"202": resent}, _refs("BadRequestId", "NoCode", "ResendTooSoon", "Unavailable")
        ),
    }


def _status() -> dict:
    found = _response(
        "queued, registered (a number registered before answers registered too), "
        "failed (retries exhausted) or conflict (the request_id is stored for another "
        "number; this one is not). With VERIFICATION=sms a registered one adds "
        "`verification`: pending, verified, or unavailable (no code can be sent to it).",
        "RegistrationStatus",
        ["X-Request-ID"],
    )
    return {
        "operationId": "getRegistrationStatus",
        "summary": "Follow a sign-up's registration",
        "parameters": [REQUEST_ID],
        "responses": _codes(
            {"200": found}, _refs("BadRequestId", "NotFound", "RateLimited", "Unavailable")
        ),
    }


def _challenge() -> dict:
    issued = _response(
        "A new challenge, signed, for one sign-up: find the number from 0 to maxnumber whose "
        "SHA-256(salt + number), in hex, is challenge, and send it as the sign-up's altcha. "
        "It expires within minutes (the salt's expires, Unix seconds).",
        "Challenge",
        ["X-Request-ID"],
    )
    return {
        "operationId": "getChallenge",
        "summary": "A proof-of-work challenge for a sign-up",
        "description": "Needed only when a sign-up is answered 403 challenge_required or "
        "challenge_invalid; never cached.",
        "responses": _codes({"200": issued}, _refs("RateLimited")),
    }


def _health() -> dict:
    alive = _response("The process is alive; nothing else is checked.", "Health", ["X-Request-ID"])
    return {"operationId": "health", "summary": "Liveness", "responses": {"200": alive}}
