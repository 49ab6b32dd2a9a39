"""What gunicorn wraps around our WSGI apps (the API and the dashboard): a JSON access log
without personal data, JSON answers to requests it cannot parse, a deadline on bodies.

gunicorn.conf.py installs them (logger_class, worker_class). They import gevent and
gunicorn's internals, so only gunicorn processes import this module.
"""

import io
import json
import re
import ssl
import time
from datetime import datetime
from http import HTTPStatus
from urllib.parse import unquote

import gevent
from gevent.server import StreamServer
from gunicorn import util
from gunicorn.glogging import Logger
from gunicorn.http import errors
from gunicorn.http.message import Request
from gunicorn.http.wsgi import Response, default_environ
from gunicorn.workers import ggevent
from gunicorn.workers.ggevent import GeventWorker

from landing.error_body import error_body
from landing.shared.phones import DIGITS
from landing.shared.privacy import mask_phone, mask_phones_in


class JsonAccessLogger(Logger):
    """Access log lines as JSON objects; no client address, query string or body (privacy).

    What the client chose (the path, the method, the request id it sent straight to
    gunicorn) has any phone number in it masked: a number typed into a URL
    (/api/register/09123456789) is logged as 0912***6789.
    """

    def access(self, resp, req, environ, request_time) -> None:
        # gunicorn counts its logconfig_dict (ours, below) as asking for access lines; only
        # accesslog (gunicorn.conf.py, from WEB_ACCESS_LOG) does here.
        if not (self.access_log_enabled and self.cfg.accesslog):
            return
        # gunicorn's own error answers carry a status line but no status_code.
        status = getattr(resp, "status_code", None) or int(str(resp.status).split()[0])
        record = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "logger": "gunicorn.access",
            "method": req.method,
            "path": logged_path(req.path),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "request_id": environ.get("HTTP_X_REQUEST_ID"),
        }
        self.access_log.info(json.dumps(mask_phones_in(record)))


# --- What gunicorn answers itself: JSON, the right status, and a deadline on bodies ------
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
# Every ParseException is the client's doing (400 unless listed), except the two the server
# causes itself.
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


class HeadWithBody:
    """A request's client socket as gunicorn's Response writes to it: the first sendall, the
    response head, is held and goes out with the body's first bytes, in one send. (A 103
    Early Hints would be the first instead and go out late, with the head: our apps send none.)

    gunicorn sends a head, then the body: two sends per answer, each a syscall inside
    gevent's send loop (~5% of a sign-up's CPU at c=64, py-spy), and two packets where one
    does. Anything else asked of the socket (sendfile for a download, shutdown after an
    error) sends what is held first; so does flush(), when the request is over.
    """

    __slots__ = ("_held", "_sock", "_started")

    def __init__(self, sock) -> None:
        self._sock, self._held, self._started = sock, b"", False

    def sendall(self, data) -> None:
        if not self._started:  # the head: the body (or the request's end) follows
            self._started, self._held = True, bytes(data)
            return
        if self._held:
            data, self._held = b"".join((self._held, data)), b""
        self._sock.sendall(data)

    def flush(self) -> None:
        if self._held:
            held, self._held = self._held, b""
            self._sock.sendall(held)

    def __getattr__(self, name: str):
        self.flush()
        return getattr(self._sock, name)


class EagerAcceptServer(StreamServer):
    """gevent's server, taking up to ACCEPT_BURST waiting connections per turn of its loop
    however many sibling processes share the socket.

    gunicorn's gevent worker takes one per turn when it has siblings, to spread connections
    over them. Under load a turn runs every request that is ready, tens of milliseconds, so
    a burst of new connections (a proxy opening more to keep up, clients arriving at a
    campaign's peak) waited in the listen queue for seconds: with 1,024 new connections,
    wrk timed requests out at 5 s and nginx's connects to us timed out into 502s. Each
    process still stops accepting at WEB_CONNECTIONS, and siblings wake for the same
    queue, so connections still spread; a small burst keeps one process from taking a whole
    burst alone (with 100, gevent's default, 1,024 split 200 / 800).
    """

    # At c=1024 with wrk: 8 took every connection within a second, 0 timeouts (1: ~250 per 8 s).
    ACCEPT_BURST = 8

    @property
    def max_accept(self) -> int:
        return self.ACCEPT_BURST

    @max_accept.setter
    def max_accept(self, value: int) -> None:
        pass  # gunicorn's 1 (with more than one process) is what this server replaces


class JsonErrorWorker(GeventWorker):
    """gevent's worker (why gevent: see gunicorn.conf.py), with gunicorn's own answers in
    the one shape (landing.error_body), a deadline on bodies, and each answer in one send
    (HeadWithBody), accepting new connections in bursts (EagerAcceptServer)."""

    read_ahead = 4_097  # bytes; json_error_worker sets it from MAX_BODY_BYTES

    def handle_request(self, listener_name, req, sock, addr) -> None:
        client = HeadWithBody(sock)
        try:
            super().handle_request(listener_name, req, client, addr)
        finally:
            client.flush()

    def run(self) -> None:
        # gunicorn's run() builds its servers from this module attribute, in this process only.
        ggevent.StreamServer = EagerAcceptServer
        super().run()

    def load_wsgi(self) -> None:
        super().load_wsgi()
        # gunicorn ships no types, so mypy cannot see the WSGI app load_wsgi has just set.
        app, read_ahead = self.wsgi, self.read_ahead  # type: ignore[has-type]

        def with_body_read(environ, start_response):
            # Raised here, a parse error or BodyTimeout reaches handle_error below.
            read_body_ahead(environ, read_ahead)
            return app(environ, start_response)

        self.wsgi = with_body_read

    def handle_error(self, req, client, addr, exc) -> None:
        """Replaces gunicorn's: the same decisions, a JSON body, no client address or raw
        request text in the log (it may carry a phone number)."""
        started = datetime.now()
        status, code, message = error_answer(exc)
        if status == 500:
            self.log.exception("error handling a request")
        else:
            self.log.info("refused a request: %s %s (%s)", status, code, type(exc).__name__)
        body = json.dumps(error_body(status, message, code)).encode() + b"\n"
        head = (
            f"HTTP/1.1 {status} {HTTPStatus(status).phrase}\r\n"
            "Connection: close\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except Exception:
            self.log.debug("failed to send the error answer")
        # A header error carries the request it was found in (InvalidRequestLine's `req` is
        # the line's text); without a request there is no access line, as in gunicorn's.
        if not isinstance(req, Request):
            req = getattr(exc, "req", None)
        if isinstance(req, Request):
            self._log_refusal(req, client, status, len(body), started)

    def _log_refusal(self, req, client, status, length, started) -> None:
        environ = default_environ(req, client, self.cfg)
        for name, value in req.headers:
            if name == "X-REQUEST-ID":
                environ["HTTP_X_REQUEST_ID"] = value
        response = Response(req, client, self.cfg)
        response.status = f"{status} {HTTPStatus(status).phrase}"
        response.status_code = status
        response.sent = length
        self.log.access(response, req, environ, datetime.now() - started)


# A status lookup's path holds a request_id, whose all-digit groups look like a number.
STATUS_PATH = re.compile(r"/api/register/[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}")
# Digits with what a visitor types between them: spaces, dashes, dots, parentheses.
DIGIT_RUN = re.compile(r"\+?\d[\d \t().-]*\d")
MIN_PHONE_DIGITS = 7


def logged_path(path: str) -> str:
    """The path as the access log shows it: decoded, any phone-like digits masked, however
    they were typed (percent-encoded, Persian or Arabic-Indic digits, separators)."""
    if STATUS_PATH.fullmatch(path):
        return path
    return DIGIT_RUN.sub(_masked, unquote(path).translate(DIGITS))


def _masked(run: re.Match) -> str:
    digits = re.sub(r"\D", "", run.group())
    return mask_phone(digits) if len(digits) >= MIN_PHONE_DIGITS else run.group()


def json_error_worker(max_body_bytes: int) -> type[JsonErrorWorker]:
    """The worker class for a MAX_BODY_BYTES: it reads one byte more ahead of the app."""
    return type("JsonErrorWorker", (JsonErrorWorker,), {"read_ahead": max_body_bytes + 1})
