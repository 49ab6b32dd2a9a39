"""The per-phone limit: one number signed up from many addresses is still one number.

It counts in the rate limiter's own storage (Redis, or the per-process fallback while Redis
is down), under a hash of the number so no phone number is ever a Redis key.
"""

import hashlib
import logging
import math
import time

from limits import parse
from werkzeug.exceptions import TooManyRequests

from landing.extensions import limiter

log = logging.getLogger(__name__)


def phone_key(phone: str) -> str:
    """The limiter key for a phone number: a hash, never the number."""
    return "phone/" + hashlib.sha256(phone.encode()).hexdigest()[:32]


def limit_phone(phone: str, limit: str) -> None:
    """TooManyRequests once phone was accepted `limit` times in the window, from any address.

    Only checks: count_phone counts a sign-up once it is accepted, so the retries of one
    the broker could not take (a 503, the page retrying with the same request_id) never use
    the number's allowance up. Fails open, as the per-address limit does.
    """
    item, key = parse(limit), phone_key(phone)
    strategy = limiter.limiter
    try:
        if strategy.test(item, key):
            return
        reset_at = strategy.get_window_stats(item, key).reset_time
    except Exception as error:  # the storage failed: Redis down or hung
        log.warning("per-phone limit not checked: %s", type(error).__name__)
        return
    raise TooManyRequests(
        "Too many attempts for this number; try again later.",
        retry_after=max(1, math.ceil(reset_at - time.time())),
    )


def count_phone(phone: str, limit: str) -> None:
    """Count an accepted sign-up of phone against its limit (best effort, as the check)."""
    try:
        limiter.limiter.hit(parse(limit), phone_key(phone))
    except Exception as error:
        log.warning("per-phone limit not counted: %s", type(error).__name__)
