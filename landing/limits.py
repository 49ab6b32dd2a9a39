"""The per-phone limit's key: one number signed up from many addresses is still one number.

The limit itself is checked and counted with the sign-up's other writes (landing/intake.py),
in the rate limiter's storage, under a hash of the number so no phone number is ever a
Redis key.
"""

import hashlib


def phone_key(phone: str) -> str:
    """The limiter key for a phone number: a hash, never the number."""
    return "phone/" + hashlib.sha256(phone.encode()).hexdigest()[:32]
