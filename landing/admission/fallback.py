"""The limits while Redis refuses: held in this process's memory, and counted as such.

A sign-up matters more than its status page: while Redis is full (maxmemory) or unavailable
(down, hung, any other error) the gate still admits, each limit's fixed window kept per
process, as flask-limiter's own fallback does. ADMITTED_IN_MEMORY says how many, and why.
"""

import math
import time

from limits import RateLimitItem
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from prometheus_client import Counter
from redis.exceptions import OutOfMemoryError

ADMITTED_IN_MEMORY = Counter(
    "landing_signups_admitted_in_memory_total",
    "Sign-ups whose admission (both limits) was decided in the web process's memory, with no"
    " status stored, because Redis refused it: full (maxmemory) or unavailable (down, hung,"
    " any other error).",
    ["reason"],
    registry=None,  # each app's registry registers it (WebMetrics)
)
REFUSALS = {"full": "Redis is full (maxmemory)", "unavailable": "Redis unavailable"}


def redis_refused(error: Exception, signups: int) -> str:
    """Count signups admitted in memory because Redis raised error; why, for the log:
    "Redis is full (maxmemory)" (an OOM error) or "Redis unavailable"."""
    reason = "full" if isinstance(error, OutOfMemoryError) else "unavailable"
    ADMITTED_IN_MEMORY.labels(reason).inc(signups)
    return REFUSALS[reason]


class InMemoryLimits:
    """Fixed windows in this process only, under the same keys as in Redis."""

    def __init__(self) -> None:
        self._limiter = FixedWindowRateLimiter(MemoryStorage())

    def hit(self, item: RateLimitItem, key: str) -> int | None:
        """Count key against item: None while under it, else the seconds until its window
        resets."""
        if self._limiter.hit(item, key):
            return None
        reset = self._limiter.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset - time.time()))
