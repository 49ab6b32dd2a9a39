"""What gunicorn answers itself: JSON in the API's shape, the right status, and a deadline on
bodies."""

import io
import ssl

import gevent
from gunicorn.http import errors

# gunicorn is reachable from inside compose's networks, not only through nginx, so it holds
# the same line as nginx. Out of the box, what it can't parse (a malformed request line,
# headers too large, a bad Content-Length) gets an HTML page from its worker's handle_error
# (gunicorn.util.write_error); a malformed chunk surfaces inside the app, as an unexpected
# error (500); HTTP/3.0 is a 400; and a body may take as long as the client likes. The
# response handle_error logs has no status_code, so the access logger handles that too.

#: Seconds a whole request body may take to arrive, counted from its headers: nginx can only
#: bound the time between two reads, so a body trickled a byte a second would never end.
BODY_TIMEOUT = 5.0


class BodyTimeout(errors.ParseException):
    def __str__(self) -> str:
        return f"request body not received within {BODY_TIMEOUT:g} s"


# (exception, status, code, message), first match wins; the codes are landing.error_body's.
# Every ParseException is the client's doing (400 unless listed), except the three the
# server causes itself.
SERVER_FAULTS = (
    errors.ConfigurationProblem,
    errors.InvalidResponseHeader,  # the app's header, not the client's
    errors.InvalidResponseHeaderName,
)
CLIENT_ERRORS = (
    (errors.LimitRequestLine, 414, "uri_too_long", "Request URI too long."),
    (errors.LimitRequestHeaders, 431, "headers_too_large", "Request headers too large."),
    (errors.UnsupportedTransferCoding, 501, "not_implemented", "Transfer-Encoding not supported."),
    (errors.ExpectationFailed, 417, "expectation_failed", "Only Expect: 100-continue is served."),
    (errors.ForbiddenProxyRequest, 403, "forbidden", "Request forbidden."),
    (BodyTimeout, 408, "timeout", "The request took too long to arrive."),
    (errors.ParseException, 400, "invalid", "Malformed request."),
    (ssl.SSLError, 400, "invalid", "Malformed request."),
)
INTERNAL = (500, "internal", "Internal error; try again shortly.")
WRONG_VERSION = (505, "http_version_not_supported", "Only HTTP/1.x is served here.")


def error_answer(error: BaseException) -> tuple[int, str, str]:
    """(status, code, message) of gunicorn's answer to error, raised reading a request."""
    if isinstance(error, SERVER_FAULTS):
        return INTERNAL
    # A well-formed version other than 1.x arrives as a tuple, garbage as its text.
    if isinstance(error, errors.InvalidHTTPVersion) and isinstance(error.version, tuple):
        return WRONG_VERSION
    for kind, status, code, message in CLIENT_ERRORS:
        if isinstance(error, kind):
            return status, code, message
    return INTERNAL


class _AfterReadAhead(io.RawIOBase):
    """A body longer than the read-ahead: what was read, then the rest as it comes."""

    def __init__(self, head: bytes, rest) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._head[: len(buffer)] or self._rest.read(len(buffer))
        self._head = self._head[len(data) :]
        buffer[: len(data)] = data
        return len(data)


def read_body_ahead(environ: dict, read_ahead: int) -> None:
    """Read the body before the app runs, within BODY_TIMEOUT: a malformed chunk is then an
    error gunicorn answers (400), and a body that trickles in a 408, never the app's 500.

    read_ahead is more than MAX_BODY_BYTES, so the app still sees (and refuses, with its
    attempt history) a body too large.
    """
    declared = environ.get("CONTENT_LENGTH")
    if declared and int(declared) >= read_ahead:
        return  # the app refuses it by its Content-Length (413), unread
    body = environ["wsgi.input"]
    with gevent.Timeout(BODY_TIMEOUT, BodyTimeout()):
        head = body.read(read_ahead)
    if len(head) < read_ahead:
        environ["wsgi.input"] = io.BytesIO(head)
    else:
        environ["wsgi.input"] = io.BufferedReader(_AfterReadAhead(head, body))
