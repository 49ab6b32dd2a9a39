"""Who may call the operator API (bearer tokens, kept as SHA-256 digests), for what (scopes),
and the audit log.

ADMIN_TOKENS holds only digests, so a leaked environment does not leak a working token.
Every configured digest is compared, in constant time, whatever matched before: how long
a check takes says nothing about which token, or how much of one, was right.

Each entry is a digest, alone (every scope: what an entry meant before scopes existed) or
followed by `:` and its scopes joined by `+`, e.g. `<digest>:read+export`. A scope is what
a route needs (`needs`): `read` the registrations and stats, `export` start, poll and
download exports (a copy of every number), `erase` delete a number. A token without the
route's scope gets a 403; a route that names no scope is refused to every token.
"""

import hashlib
import hmac
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app, g, request

from landing.errors import error_response

audit = logging.getLogger("landing.admin.audit")
_DIGEST = re.compile(r"[0-9a-f]{64}")
SCOPES = ("read", "export", "erase")
REALM = 'Bearer realm="landing-admin"'
# Query argument names the API reads; any other name is logged as "other" (it could be a phone).
KNOWN_ARGS = frozenset(
    ("cursor", "limit", "referrer", "created_after", "created_before", "phone_prefix")
)


def parse_tokens(raw: str) -> dict[str, frozenset[str]]:
    """ADMIN_TOKENS' entries: each digest and the scopes it grants; ValueError on anything
    else (a token pasted as is, an unknown scope, a digest listed twice)."""
    tokens: dict[str, frozenset[str]] = {}
    entries = [part.strip() for part in raw.split(",") if part.strip()]
    for number, entry in enumerate(entries, start=1):
        digest, colon, scopes = entry.partition(":")
        digest = digest.strip().lower()
        if not _DIGEST.fullmatch(digest):
            raise ValueError("ADMIN_TOKENS holds SHA-256 digests: flask --app landing hash-token")
        granted = frozenset(s.strip() for s in scopes.split("+")) if colon else frozenset(SCOPES)
        if not granted <= set(SCOPES):
            raise ValueError(
                f"ADMIN_TOKENS entry {number}: scopes are {', '.join(SCOPES)}, joined by +"
            )
        if digest in tokens:
            raise ValueError(f"ADMIN_TOKENS entry {number}: that digest is already listed")
        tokens[digest] = granted
    return tokens


def scope_text(scopes: frozenset[str]) -> str:
    """Scopes as ADMIN_TOKENS writes them, in SCOPES' order: read+export."""
    return "+".join(scope for scope in SCOPES if scope in scopes)


def digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def matching_digest(header: str | None, digests: tuple[str, ...]) -> str | None:
    """The configured digest the Authorization header's bearer token hashes to, if any."""
    scheme, _, token = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    presented = digest_of(token.strip())
    matched = None
    for digest in digests:
        if hmac.compare_digest(presented, digest):
            matched = digest
    return matched


def needs[View: Callable[..., Any]](scope: str) -> Callable[[View], View]:
    """Mark a view with the scope a token must grant to call it."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    def mark(view: View) -> View:
        # A function takes attributes; Callable's type has no room to say so.
        view.admin_scope = scope  # type: ignore[attr-defined]
        return view

    return mark


def require_token(tokens: Mapping[str, frozenset[str]]):
    """A before_request hook: the request's token digest and scopes in g, or a 401, or a 403
    when the token lacks the scope of the route it asks for."""
    digests = tuple(tokens)

    def check():
        g.admin_digest = matching_digest(request.headers.get("Authorization"), digests)
        if g.admin_digest is None:
            message = "A valid operator token is required (Bearer)."
            return error_response(401, message, [("WWW-Authenticate", REALM)])
        g.admin_scopes = tokens[g.admin_digest]
        if request.url_rule is None or request.endpoint is None:
            return None  # no such route: the 404 or 405 to come
        view = current_app.view_functions.get(request.endpoint)
        needed = getattr(view, "admin_scope", None)
        if needed not in g.admin_scopes:
            return error_response(403, f"This token lacks the {needed or 'needed'} scope.")
        return None

    return check


def log_access(response):
    """An after_request hook: one audit line per request, without tokens or phone numbers.

    The path is the route's pattern (a phone in /phones/<phone> stays out) and the query
    only its argument names (a phone_prefix's value stays out); the token is its digest's
    first 8 hex digits, with the scopes it grants.
    """
    rule = request.url_rule.rule if request.url_rule else "unmatched"
    digest = getattr(g, "admin_digest", None)
    audit.info(
        "admin %s %s query=%s status=%d token=%s scopes=%s",
        request.method,
        rule,
        ",".join(sorted({name if name in KNOWN_ARGS else "other" for name in request.args})) or "-",
        response.status_code,
        digest[:8] if digest else "-",
        scope_text(g.admin_scopes) if digest else "-",
    )
    return response
