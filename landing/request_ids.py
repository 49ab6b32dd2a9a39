"""Every request has an id: nginx's X-Request-ID, else one made here.

Each log line written while the request is handled carries it (json_logs.REQUEST_ID), the
response echoes it in X-Request-ID, and gunicorn's access log line shows it too.

It is WSGI middleware around the Flask app rather than Flask hooks: every answer the app
makes carries the id, whatever produced it, and the web pays for one wrapper instead of
three hooks (`make bench-instructions`, docs/benchmark.md). gunicorn's own refusals (a
malformed request, docs/architecture.md) never reach it. The log context holds the id
until the app returns its answer, as Flask's teardown did: a streamed body's log lines,
were there any, would have none.
"""

import re
import secrets
from collections.abc import Callable, Iterable

from flask import Flask

from landing.shared.json_logs import REQUEST_ID

HEADER = "X-Request-ID"
_HEADER_KEY = HEADER.lower()  # header names are case-insensitive
ENVIRON_KEY = "HTTP_X_REQUEST_ID"  # where WSGI puts the header, and the access log reads it
# Anything else a client sends is replaced: the id goes into every log line.
_PLAIN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def incoming_request_id(value: str) -> str:
    """The id to use for a request whose X-Request-ID header is value ('' when absent).

    nginx's id is kept as it is, so nginx's logs, ours and the client all show the same
    text; a missing or odd one is replaced by a new one in nginx's style (32 hex digits).
    """
    return value if _PLAIN.fullmatch(value) else secrets.token_hex(16)


class RequestIds:
    """WSGI middleware: the request's id in its environ and the log context, and echoed."""

    def __init__(self, app: Callable) -> None:
        self.app = app

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = environ[ENVIRON_KEY] = incoming_request_id(environ.get(ENVIRON_KEY, ""))

        def start(status: str, headers: list, exc_info=None):
            # Ours replaces any the app set, as for the environ: one id per answer.
            kept = [(name, value) for name, value in headers if name.lower() != _HEADER_KEY]
            return start_response(status, [*kept, (HEADER, request_id)], exc_info)

        token = REQUEST_ID.set(request_id)
        try:
            return self.app(environ, start)
        finally:
            REQUEST_ID.reset(token)  # the greenlet or thread serves other requests next


def init_request_ids(app: Flask) -> None:
    """Give every request an id, around everything the Flask app does."""
    app.wsgi_app = RequestIds(app.wsgi_app)  # type: ignore[method-assign]  # as Flask documents
