"""Every error the API and the operator API return is JSON in one shape (landing.error_body):
{"error", "message"[, "fields"]}."""

import logging
import time

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, InternalServerError

from landing.admission.limiter import limiter
from landing.error_body import error_body

log = logging.getLogger(__name__)


def error_response(status: int, message: str, headers=None, code: str | None = None, **extra):
    """The one error shape (landing.error_body) as Flask's response; code is the status's own
    unless named, extra keys (like fields) are added beside error and message."""
    response = jsonify(error_body(status, message, code, **extra))
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
