"""The dashboard's own CSRF protection, in place of dramatiq-dashboard's.

dramatiq-dashboard's own check trusts any cookie whose name ends in `__dd_csrf` and prints its value
into every form unescaped. Browsers share cookies between the ports of one host, so a page
on another port (RabbitMQ's UI, mongo-express) could plant one: script in our pages, and
forms it can forge. Here instead:

- the token is ours: random, signed with a key only this process holds, in a host-only
  cookie (no Domain) that is HttpOnly, SameSite=Strict, Path=/dashboard, Secure over HTTPS.
  A cookie we did not sign is ignored, whatever its name; only a token we signed is ever
  rendered, and escaped at that.
- a POST (any unsafe method) must carry the same token in its form, and an Origin (or, if
  absent, a Referer) equal to the request's own scheme://host:port. The port is what tells
  our pages from another page on the host: SameSite does not look at ports.
"""

import hashlib
import hmac
import io
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from markupsafe import Markup
from werkzeug.http import parse_cookie

from landing.ops.dashboard.errors import error_response

COOKIE = "landing_dashboard_csrf"  # never ending in __dd_csrf: nothing of the package's
FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_FORM_BYTES = 4096  # our forms carry a queue name, a message id and the token
TOKEN_SHAPE = re.compile(r"[0-9a-f]{32}\.[0-9a-f]{64}")
DEFAULT_PORTS = {"http": 80, "https": 443}
# Being framed by another port's page would let it steer an operator's clicks.
HARDENING = [
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("X-Content-Type-Options", "nosniff"),
]

# The token the current request's pages render (per thread, or per greenlet under gevent).
_TOKEN: ContextVar[str] = ContextVar("dashboard_csrf_token", default="")
log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable], Iterable[bytes]]


def hidden_field() -> Markup:
    """The form field the templates print with csrf_token(): this request's token, escaped."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(FIELD, _TOKEN.get())


class CsrfProtect:
    """WSGI middleware: issues the token cookie, and refuses an unsafe request not from our form."""

    def __init__(self, app: WSGIApp, path: str, key: bytes | None = None) -> None:
        self.app = app
        self.path = path
        # A key per process: the dashboard is one gunicorn process, and after a restart an
        # open page's next POST is refused once, then its reload brings a fresh token.
        self.key = key or secrets.token_bytes(32)

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        known = self.signed_cookie(environ)
        token = known or self.new_token()
        if environ.get("REQUEST_METHOD", "GET").upper() not in SAFE_METHODS:
            reason = _refusal(environ, known)
            if reason:
                _log_refusal(environ, reason)
                return error_response(403, "forbidden", reason)(environ, start_response)
        added = [*HARDENING]
        if not known and self.in_scope(environ):
            added.append(("Set-Cookie", self.cookie(environ, token)))

        def start(status: str, headers: list, exc_info: Any = None) -> Callable:
            return start_response(status, [*headers, *added], exc_info)

        reset = _TOKEN.set(token)
        try:
            return self.app(environ, start)  # the package renders its pages within the call
        finally:
            _TOKEN.reset(reset)

    def in_scope(self, environ: dict[str, Any]) -> bool:
        """The request is under the cookie's path, so it would have carried the cookie."""
        # Elsewhere (a browser's /favicon.ico) a fresh cookie would replace the one the open
        # page's forms carry, and its next POST would be refused.
        path = environ.get("PATH_INFO", "")
        return path == self.path or path.startswith(self.path + "/")

    def new_token(self) -> str:
        """A random nonce and our signature of it."""
        nonce = secrets.token_hex(16)
        return f"{nonce}.{self._sign(nonce)}"

    def signed_cookie(self, environ: dict[str, Any]) -> str | None:
        """The first cookie named COOKIE that we signed; every other cookie is ignored."""
        for value in parse_cookie(environ).getlist(COOKIE):
            if TOKEN_SHAPE.fullmatch(value):
                nonce, _, signature = value.partition(".")
                if hmac.compare_digest(signature, self._sign(nonce)):
                    return value
        return None

    def cookie(self, environ: dict[str, Any], token: str) -> str:
        """The Set-Cookie value: host-only (no Domain), so no other host can be given it."""
        attributes = [f"{COOKIE}={token}", f"Path={self.path}", "HttpOnly", "SameSite=Strict"]
        if request_scheme(environ) == "https":
            attributes.append("Secure")
        return "; ".join(attributes)

    def _sign(self, nonce: str) -> str:
        return hmac.new(self.key, nonce.encode(), hashlib.sha256).hexdigest()


def _refusal(environ: dict[str, Any], token: str | None) -> str | None:
    """Why an unsafe request is refused, or None when it is our own page's form."""
    if not same_origin(environ):
        return "The request did not come from the dashboard's own pages."
    sent = _form_token(environ)
    if token is None or sent is None or not hmac.compare_digest(sent, token.encode()):
        return "The form's CSRF token is missing or wrong: reload the page and try again."
    return None


def _form_token(environ: dict[str, Any]) -> bytes | None:
    """The form's one token field; the body read here is handed on to the dashboard."""
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_FORM_BYTES:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    sent = [value for name, value in parse_qsl(body) if name == FIELD.encode()]
    return sent[0] if len(sent) == 1 else None


def same_origin(environ: dict[str, Any]) -> bool:
    """The Origin header (or, without one, the Referer) names this request's own origin."""
    claimed = environ.get("HTTP_ORIGIN", environ.get("HTTP_REFERER"))
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    own = _origin_of(f"{request_scheme(environ)}://{host}")
    return claimed is not None and own is not None and _origin_of(claimed) == own


def request_scheme(environ: dict[str, Any]) -> str:
    """https when the request came over HTTPS here or at a proxy in front, else http."""
    forwarded = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip().lower()
    return "https" if "https" in (forwarded, environ.get("wsgi.url_scheme")) else "http"


def _origin_of(url: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the scheme's default port filled in; None if not a URL."""
    try:
        parts = urlsplit(url.strip())
        scheme = parts.scheme.lower()
        port = parts.port or DEFAULT_PORTS.get(scheme)
    except ValueError:
        return None
    return (scheme, parts.hostname, port) if scheme and parts.hostname else None


def _log_refusal(environ: dict[str, Any], reason: str) -> None:
    origin = environ.get("HTTP_ORIGIN", environ.get("HTTP_REFERER"))
    log.warning(
        "task dashboard: refused %s %r from %s (origin %r): %s",
        environ.get("REQUEST_METHOD"),
        environ.get("PATH_INFO", "")[:200],
        environ.get("REMOTE_ADDR"),
        None if origin is None else origin[:200],
        reason,
    )
