"""Where a sign-up is counted, its status kept and its request_id bound: the Redis keys.

The counters are the limits library's fixed windows, under keys of the form flask-limiter
gives its own (counter_key), so erasure finds a number's and every request from an address,
valid or not, counts in one window.

A number's counter is under a keyed hash of the number (PhoneKeys), so no phone number is
ever a Redis key, and a copy of Redis gives none back: Iranian mobile numbers are few enough
to hash them all, and without LIMIT_KEY_SECRET nobody can. Rotating the secret only resets
the per-phone limits: counters under the old keys are no longer found and expire with their
window (PHONE_RATE_LIMIT), and an erasure meanwhile misses them (they hold no number).
"""

import hmac
from dataclasses import dataclass

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


@dataclass(frozen=True, slots=True)
class Keys:
    """Where a sign-up is counted and its status kept."""

    address: str
    phone: str
    status: str
    binding: str
    fingerprint: str  # not a key: what its binding holds (a keyed hash of the number)
