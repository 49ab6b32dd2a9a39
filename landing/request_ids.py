"""Every request has an id: nginx's X-Request-ID, else one made here.

Each log line written while the request is handled carries it (json_logs.REQUEST_ID), the
response echoes it in X-Request-ID, and gunicorn's access log line shows it too.
"""

import re
import secrets

from flask import Flask, Response, g, request

from landing.shared.json_logs import REQUEST_ID

HEADER = "X-Request-ID"
# Anything else a client sends is replaced: the id goes into every log line.
_PLAIN = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def incoming_request_id(value: str) -> str:
    """The id to use for a request whose X-Request-ID header is value ('' when absent).

    nginx's id is kept as it is, so nginx's logs, ours and the client all show the same
    text; a missing or odd one is replaced by a new one in nginx's style (32 hex digits).
    """
    return value if _PLAIN.fullmatch(value) else secrets.token_hex(16)


def _start() -> None:
    g.request_id = incoming_request_id(request.headers.get(HEADER, ""))
    REQUEST_ID.set(g.request_id)
    # gunicorn.conf.py's access logger reads the header from the WSGI environ.
    request.environ["HTTP_X_REQUEST_ID"] = g.request_id


def _echo(response: Response) -> Response:
    if "request_id" in g:
        response.headers[HEADER] = g.request_id
    return response


def _end(error: BaseException | None) -> None:
    REQUEST_ID.set(None)  # the thread serves other requests next


def init_request_ids(app: Flask) -> None:
    """Give every request an id (register first, so every other hook and handler sees it)."""
    app.before_request(_start)
    app.after_request(_echo)
    app.teardown_request(_end)
