"""Who is asking: the visitor's address and user agent."""

import ipaddress
import re

from flask import request

MAX_USER_AGENT = 512
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def client_ip() -> str | None:
    """The leftmost X-Forwarded-For address, else the socket peer; None if neither parses.

    nginx overwrites X-Forwarded-For with the address it accepted the connection from, so
    the leftmost entry cannot be forged from outside. The rate limiter keys on this value
    and the attempt log records it.
    """
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    for candidate in (forwarded, request.remote_addr or ""):
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None


def rate_limit_key() -> str:
    """flask-limiter's key: one bucket per client address."""
    return client_ip() or "unknown"


def user_agent() -> str | None:
    """The User-Agent header without control characters (PostgreSQL refuses NUL), cut to fit."""
    agent = _CONTROL.sub("", request.headers.get("User-Agent", ""))
    return agent[:MAX_USER_AGENT] or None
