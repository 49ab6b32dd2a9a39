"""The per-address and per-phone limits of sign-ups: their keys.

A valid sign-up is checked and counted against both with its other writes (landing/intake.py),
in the rate limiter's storage. A request refused as invalid counts against its address too,
in the same window (Intake.count_refused): flask-limiter counted every request before it was
parsed, and an address that floods us with bad requests must still be told to wait. A
number's counter is under a hash of the number, so no phone number is ever a Redis key.
"""

import hashlib

from limits import RateLimitItem
from limits.storage import RedisStorage

REGISTER_SCOPE = "register"  # the per-address counter's scope, in its key


def phone_key(phone: str) -> str:
    """The limiter key for a phone number: a hash, never the number."""
    return "phone/" + hashlib.sha256(phone.encode()).hexdigest()[:32]


def counter_key(item: RateLimitItem, *identifiers: str) -> str:
    """The Redis key the limits library keeps item's counter for identifiers under."""
    return f"{RedisStorage.PREFIX}:{item.key_for(*identifiers)}"
