"""Every error the API returns is JSON in one shape: {"error", "message"[, "fields"]}."""

import logging
import time

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from landing.admission.limiter import limiter

log = logging.getLogger(__name__)

CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    409: "conflict",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal",
    503: "unavailable",
}


def error_response(status: int, message: str, headers=None, **extra):
    """The one error shape; extra keys (like fields) are added beside error and message."""
    body = {"error": CODES.get(status, "error"), "message": message, **extra}
    response = jsonify(body)
    response.status_code = status
    for name, value in headers or ():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def handle_http_exception(error: HTTPException):
    message, headers = error.description or error.name, error.get_headers()
    # flask-limiter's 429 says which limit in its own words; ours (landing.admission) already
    # carries its message and Retry-After.
    if error.code == 429 and not any(name == "Retry-After" for name, _ in headers):
        message = "Too many attempts from your address; try again later."
        headers.append(("Retry-After", str(_seconds_until_reset())))
    return error_response(error.code or 500, message, headers)


def _seconds_until_reset() -> int:
    current = limiter.current_limit
    return max(1, int(current.reset_at - time.time())) if current else 60


def handle_validation_error(error: ValidationError):
    return error_response(400, "Some fields are not valid.", fields=error.messages)


def handle_unexpected(error: Exception):
    log.exception("unexpected error on %s %s", request.method, request.path)
    return error_response(500, InternalServerError.description)


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(ValidationError, handle_validation_error)
    app.register_error_handler(Exception, handle_unexpected)
