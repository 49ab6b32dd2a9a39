"""The per-address and per-phone limits of sign-ups: their keys.

A valid sign-up is checked and counted against both with its other writes (landing/intake.py),
in the rate limiter's storage. A request refused as invalid counts against its address too,
in the same window (Intake.count_refused): flask-limiter counted every request before it was
parsed, and an address that floods us with bad requests must still be told to wait.

A number's counter is under a keyed hash of the number (PhoneKeys), so no phone number is
ever a Redis key, and a copy of Redis gives none back: Iranian mobile numbers are few enough
to hash them all, and without LIMIT_KEY_SECRET nobody can. Rotating the secret only resets
the per-phone limits: counters under the old keys are no longer found and expire with their
window (PHONE_RATE_LIMIT), and an erasure meanwhile misses them (they hold no number).
"""

import hmac

from limits import RateLimitItem
from limits.storage import RedisStorage

REGISTER_SCOPE = "register"  # the per-address counter's scope, in its key


class PhoneKeys:
    """The limiter key of a phone number: HMAC-SHA256 of it under a secret, never the number."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("LIMIT_KEY_SECRET is empty: the per-phone limit needs it")
        self._secret = secret.encode()

    def __call__(self, phone: str) -> str:
        return "phone/" + hmac.digest(self._secret, phone.encode(), "sha256").hex()[:32]


def counter_key(item: RateLimitItem, *identifiers: str) -> str:
    """The Redis key the limits library keeps item's counter for identifiers under."""
    return f"{RedisStorage.PREFIX}:{item.key_for(*identifiers)}"
