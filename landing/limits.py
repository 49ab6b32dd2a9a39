"""The per-address and per-phone limits of sign-ups: their keys, and the turned-away's count.

A valid sign-up is checked and counted against both with its other writes (landing/intake.py),
in the rate limiter's storage. A request refused as invalid counts against its address too,
here, in the same window: flask-limiter counted every request before it was parsed, and an
address that floods us with bad requests must still be told to wait. A number's counter is
under a hash of the number, so no phone number is ever a Redis key.
"""

import hashlib
import logging
import math
import time

from limits import RateLimitItem, parse
from limits.storage import RedisStorage

from landing.extensions import limiter

log = logging.getLogger(__name__)
REGISTER_SCOPE = "register"  # the per-address counter's scope, in its key


def phone_key(phone: str) -> str:
    """The limiter key for a phone number: a hash, never the number."""
    return "phone/" + hashlib.sha256(phone.encode()).hexdigest()[:32]


def counter_key(item: RateLimitItem, *identifiers: str) -> str:
    """The Redis key the limits library keeps item's counter for identifiers under."""
    return f"{RedisStorage.PREFIX}:{item.key_for(*identifiers)}"


def count_refused(limit: str, bucket: str) -> int | None:
    """Count a refused sign-up against its address: None while under limit, else the seconds
    until its window resets. Fails open, like the limits of valid sign-ups."""
    item = parse(limit)
    try:
        if limiter.limiter.hit(item, REGISTER_SCOPE, bucket):
            return None
        reset = limiter.limiter.get_window_stats(item, REGISTER_SCOPE, bucket).reset_time
    except Exception as error:  # the storage failed: Redis down or hung
        log.warning("per-address limit not counted: %s", type(error).__name__)
        return None
    return max(1, math.ceil(reset - time.time()))
