"""Who may call the operator API (bearer tokens, kept as SHA-256 digests) and the audit log.

ADMIN_TOKENS holds only digests, so a leaked environment does not leak a working token.
Every configured digest is compared, in constant time, whatever matched before: how long
a check takes says nothing about which token, or how much of one, was right.
"""

import hashlib
import hmac
import logging
import re

from flask import g, jsonify, request

audit = logging.getLogger("landing.admin.audit")
_DIGEST = re.compile(r"[0-9a-f]{64}")
REALM = 'Bearer realm="landing-admin"'
# Query argument names the API reads; any other name is logged as "other" (it could be a phone).
KNOWN_ARGS = frozenset(
    ("cursor", "limit", "referrer", "created_after", "created_before", "phone_prefix")
)


def parse_digests(raw: str) -> tuple[str, ...]:
    """ADMIN_TOKENS' digests; ValueError on anything that is not one (a token pasted as is)."""
    digests = tuple(part.strip().lower() for part in raw.split(",") if part.strip())
    bad = [index for index, digest in enumerate(digests) if not _DIGEST.fullmatch(digest)]
    if bad:
        raise ValueError("ADMIN_TOKENS holds SHA-256 digests: flask --app landing hash-token")
    return digests


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


def require_token(digests: tuple[str, ...]):
    """A before_request hook: the request's token digest in g, or a 401."""

    def check():
        g.admin_digest = matching_digest(request.headers.get("Authorization"), digests)
        if g.admin_digest is None:
            response = jsonify(
                error="unauthorized", message="A valid operator token is required (Bearer)."
            )
            response.status_code = 401
            response.headers["WWW-Authenticate"] = REALM
            return response
        return None

    return check


def log_access(response):
    """An after_request hook: one audit line per request, without tokens or phone numbers.

    The path is the route's pattern (a phone in /phones/<phone> stays out) and the query
    only its argument names (a phone_prefix's value stays out).
    """
    rule = request.url_rule.rule if request.url_rule else "unmatched"
    digest = getattr(g, "admin_digest", None)
    audit.info(
        "admin %s %s query=%s status=%d token=%s",
        request.method,
        rule,
        ",".join(sorted({name if name in KNOWN_ARGS else "other" for name in request.args})) or "-",
        response.status_code,
        digest[:8] if digest else "-",
    )
    return response
