"""The dashboard's errors in the API's shape: {"error": code, "message": text}."""

import json

from dramatiq_dashboard import http
from werkzeug.wrappers import Response


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None
) -> Response:
    """A JSON error as a WSGI response, for the middleware around the dashboard."""
    body = json.dumps({"error": code, "message": message})
    return Response(body, status=status, headers=headers, mimetype="application/json")


def handler_error(status: str, code: str, message: str) -> http.Response:
    """A JSON error as dramatiq-dashboard's own Response, for a handler to return."""
    body = json.dumps({"error": code, "message": message})
    return http.Response(
        status=status, headers=[("Content-Type", "application/json")], content=body
    )
