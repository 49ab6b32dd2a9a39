"""Who is asking: the visitor's address and user agent."""

import ipaddress

from flask import request

MAX_USER_AGENT = 512


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
    """The User-Agent header, cut to what the registrations table keeps."""
    agent = request.headers.get("User-Agent")
    return agent[:MAX_USER_AGENT] if agent else None
