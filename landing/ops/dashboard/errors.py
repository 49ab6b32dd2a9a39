"""The dashboard's errors in the one shape (landing.error_body): {"error", "message"}."""

import json
from http import HTTPStatus

from dramatiq_dashboard import http
from werkzeug.wrappers import Response

from landing.error_body import error_body


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error as a WSGI response, for the middleware around the dashboard."""
    body = json.dumps(error_body(status, message, code))
    return Response(body, status=status, headers=headers, mimetype="application/json")


def handler_error(status: int, code: str, message: str) -> http.Response:
    """A JSON error as dramatiq-dashboard's own Response, for a handler to return."""
    body = json.dumps(error_body(status, message, code))
    return http.Response(
        status=f"{status} {HTTPStatus(status).phrase}",
        headers=[("Content-Type", "application/json")],
        content=body,
    )
