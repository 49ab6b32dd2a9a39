"""Who is asking: the visitor's address and user agent, in forms every store takes."""

import ipaddress

from flask import request

from landing.schemas import storable_text

MAX_USER_AGENT = 512  # schema.sql: varchar(512)


def normalize_ip(text: str) -> str | None:
    """text as an address PostgreSQL's inet takes, or None when it is no address at all.

    An IPv6 zone (fe80::1%eth0) names an interface of the machine that saw the packet:
    meaningless elsewhere, and inet refuses it. An IPv4-mapped IPv6 address (::ffff:1.2.3.4,
    what a dual-stack socket reports for an IPv4 client) is that IPv4 client, so it is
    recorded, and rate limited, as one.
    """
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        address = address.ipv4_mapped or ipaddress.IPv6Address(address.packed)
    return str(address)


def client_ip() -> str | None:
    """The leftmost X-Forwarded-For address, else the socket peer; None if neither parses.

    nginx overwrites X-Forwarded-For with the address it accepted the connection from, so
    the leftmost entry cannot be forged from outside. The rate limiter keys on this value
    and the attempt log records it.
    """
    forwarded = request.headers.get("X-Forwarded-For", "").split(",")[0].strip()
    for candidate in (forwarded, request.remote_addr or ""):
        address = normalize_ip(candidate)
        if address is not None:
            return address
    return None


def rate_limit_key() -> str:
    """flask-limiter's key: one bucket per client address."""
    return client_ip() or "unknown"


def clean_user_agent(raw: str) -> str | None:
    """raw without control characters (NUL included) or surrogates, cut to fit its column."""
    return storable_text(raw, MAX_USER_AGENT) or None


def user_agent() -> str | None:
    """The request's User-Agent, cleaned and cut (clean_user_agent); None when absent."""
    return clean_user_agent(request.headers.get("User-Agent", ""))
