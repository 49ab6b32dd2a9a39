"""Who is asking: the visitor's address and user agent, in forms every store takes.

The address comes from X-Forwarded-For only when the connection is from a proxy we trust
(TRUSTED_PROXIES: loopback by default, the proxy network in compose); from anyone else the
header is ignored, so a client reaching gunicorn directly cannot choose its own address.
"""

import functools
import ipaddress
import re

from flask import current_app, request

from landing.schemas import storable_text

MAX_USER_AGENT = 512  # schema.sql: varchar(512)
IPV6_CLIENT_PREFIX = 64  # one subscriber's allocation: its addresses share one bucket
# A client's network, as nginx's access log names it: many clients of one provider or host.
IPV4_NETWORK_PREFIX, IPV6_NETWORK_PREFIX = 24, 48

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
# An IPv4 address exactly as ipaddress writes it (no leading zeros): already inet's form.
_IPV4 = re.compile(rf"(?:{_OCTET}\.){{3}}{_OCTET}")


def trusted_networks(text: str) -> frozenset[Network]:
    """TRUSTED_PROXIES' comma-separated networks; ValueError for one that is not.

    A frozenset: the caches below key on it, and a frozenset keeps its hash once computed
    (a tuple hashes every network again on every lookup).
    """
    return frozenset(ipaddress.ip_network(part.strip()) for part in text.split(",") if part.strip())


def normalize_ip(text: str) -> str | None:
    """text as an address PostgreSQL's inet takes, or None when it is no address at all.

    An IPv6 zone (fe80::1%eth0) names an interface of the machine that saw the packet:
    meaningless elsewhere, and inet refuses it. An IPv4-mapped IPv6 address (::ffff:1.2.3.4,
    what a dual-stack socket reports for an IPv4 client) is that IPv4 client, so it is
    recorded, and rate limited, as one.
    """
    if _IPV4.fullmatch(text):  # most addresses: a tenth of ip_address's time
        return text
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        address = address.ipv4_mapped or ipaddress.IPv6Address(address.packed)
    return str(address)


def forwarded_client(peer: str | None, forwarded: str, trusted: frozenset[Network]) -> str | None:
    """The client's address: the nearest X-Forwarded-For entry that is not a trusted proxy,
    when peer (the connection's address) is one; otherwise peer itself.

    Entries are read from the right, as each trusted proxy appends the address it saw; an
    entry that is no address ends the walk at the last trusted hop.
    """
    if peer is None or not _is_trusted(peer, trusted):
        return peer
    client = peer
    for entry in reversed(forwarded.split(",")):
        address = normalize_ip(entry.strip())
        if address is None:
            break
        client = address
        if not _is_trusted(address, trusted):
            break
    return client


# The proxies' own addresses come again and again (every request nginx forwards).
@functools.lru_cache(maxsize=1024)
def _is_trusted(address: str, trusted: frozenset[Network]) -> bool:
    parsed = ipaddress.ip_address(address)
    return any(parsed in network for network in trusted)


def client_ip() -> str | None:
    """This request's client address (forwarded_client), in inet's form; None if unknown."""
    return _client(
        request.remote_addr or "",
        request.headers.get("X-Forwarded-For", ""),
        current_app.config["TRUSTED_PROXIES"],
    )


# Parsing addresses is a few percent of a sign-up's CPU, and the same (peer, header) pairs
# come again and again: nginx's address and a visitor's repeated requests.
@functools.lru_cache(maxsize=1024)
def _client(remote_addr: str, forwarded: str, trusted: frozenset[Network]) -> str | None:
    return forwarded_client(normalize_ip(remote_addr), forwarded, trusted)


def client_bucket(address: str | None) -> str:
    """The rate limiters' key for an address: IPv4 as it is, IPv6 by its /64."""
    if address is None:
        return "unknown"
    if ":" not in address:  # IPv4 (already normalised): itself, without parsing it again
        return address
    parsed = ipaddress.ip_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return address


@functools.lru_cache(maxsize=4096)
def client_network(address: str | None) -> str:
    """The network an address is in, as the challenge's `auto` mode counts sign-ups: an
    IPv4 /24, an IPv6 /48 (nginx's access log writes the same, never an address)."""
    if address is None:
        return "unknown"
    parsed = ipaddress.ip_address(address)
    prefix = IPV4_NETWORK_PREFIX if parsed.version == 4 else IPV6_NETWORK_PREFIX
    return str(ipaddress.ip_network(f"{parsed}/{prefix}", strict=False))


def rate_limit_key() -> str:
    """flask-limiter's key: one bucket per client (an IPv6 client's /64 is one client)."""
    return client_bucket(client_ip())


@functools.lru_cache(maxsize=1024)  # a few browsers' strings make most of the traffic
def clean_user_agent(raw: str) -> str | None:
    """raw without control characters (NUL included) or surrogates, cut to fit its column."""
    return storable_text(raw, MAX_USER_AGENT) or None


def user_agent() -> str | None:
    """The request's User-Agent, cleaned and cut (clean_user_agent); None when absent."""
    return clean_user_agent(request.headers.get("User-Agent", ""))
