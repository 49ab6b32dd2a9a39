"""Requests refused before they became sign-ups: what admission does with them.

Invalid, too large or not JSON, each still counts against its address's limit in the
sign-ups' own window (Gate.count_refused): flask-limiter counted every request before it
was parsed, and an address that floods us with bad requests must still be told to wait.
Past the limit the answer is 429 instead (refused_past_limit). A taken request_id or a
limit the gate refused was counted already (COUNTED).

A flood of bad requests must not become a flood of durable writes either: past
TURNED_AWAY_LOG_LIMIT attempts from one address in a window, landing.turned_away only
counts them (under_log_cap).
"""

import logging

from flask import current_app
from limits import parse
from werkzeug.exceptions import TooManyRequests

from landing.admission.limiter import limiter
from landing.admission.refusals import AddressLimited
from landing.visitor import client_bucket, client_ip

log = logging.getLogger(__name__)

# Refusals the gate already counted against the client's address: a request_id taken by
# another number, a limit used up.
COUNTED = frozenset({409, 429})


def refused_past_limit(code: int | None = None) -> TooManyRequests | None:
    """Count this refused sign-up request against its address: the 429 to answer instead
    once the address is past its limit, else None. code: the refusal's status (None: the
    schema refused it)."""
    if code in COUNTED:
        return None
    retry_after = current_app.extensions["gate"].count_refused(client_ip())
    if retry_after is None:
        return None
    return TooManyRequests(AddressLimited.__doc__, retry_after=retry_after)


def under_log_cap(ip: str | None) -> bool:
    """Whether this turned-away attempt from ip may still reach the attempt history."""
    limit = current_app.config["SETTINGS"].turned_away_log_limit
    try:
        return limiter.limiter.hit(parse(limit), "turned-away", client_bucket(ip))
    except Exception as error:  # the storage failed: record the attempt anyway
        log.warning("turned-away cap not checked: %s", type(error).__name__)
        return True
