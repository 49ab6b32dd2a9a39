"""Whether a sign-up must carry a solved challenge: CHALLENGE_MODE, and `auto`'s counting.

- off: never (no Redis call, no cost).
- always: every sign-up.
- auto: a sign-up from a client network (an IPv4 /24, an IPv6 /48: landing.visitor's
  client_network) once that network sent more than CHALLENGE_NETWORK_RATE; every sign-up
  once all of them together are over CHALLENGE_EVERYONE_RATE. A script spread over many
  addresses of one provider trips the first; one spread over many networks, the second.
  Engaged, it stays on for CHALLENGE_HOLD seconds, renewed while the rate is still over,
  then turns itself off.

Every sign-up POST with a valid body counts, solved or not: a flood of solved ones keeps
the challenge on. Each engagement is counted (ENGAGED, by scope: `network` or `everyone`,
never the network itself) and logged; `everyone`'s state is a gauge (EVERYONE). A network is
logged as nginx's access log writes it (its /24 or /48), never an address.

While Redis refuses, the counts and the held state live in this process's memory (each
process counts only what it sees, so the rates are reached later, not never).
"""

import logging
import threading
import time

from limits import parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from prometheus_client import Counter, Gauge
from redis import Redis
from redis.exceptions import RedisError

from landing.admission.scripts import PRESSURE
from landing.shared.settings import check_challenge_mode

log = logging.getLogger(__name__)

KEY_PREFIX = "landing:challenge:"

ENGAGED = Counter(
    "landing_challenge_engaged_total",
    "Times CHALLENGE_MODE=auto began requiring a solved challenge: for one client network"
    " (scope=network) or for every sign-up (scope=everyone).",
    ["scope"],
    registry=None,  # each app's registry registers it (WebMetrics)
)
EVERYONE = Gauge(
    "landing_challenge_required_for_everyone",
    "1 while CHALLENGE_MODE=auto requires a solved challenge of every sign-up (as the web"
    " process last saw it), else 0.",
    registry=None,
    multiprocess_mode="livemax",
)


class Pressure:
    """required(network): whether a sign-up from network must carry a solved challenge."""

    def __init__(
        self, mode: str, network_rate: str, everyone_rate: str, hold: int, redis: Redis
    ) -> None:
        self.mode = check_challenge_mode(mode)
        self.network_rate, self.everyone_rate = parse(network_rate), parse(everyone_rate)
        self.hold = hold
        self.args = [
            self.network_rate.amount,
            self.network_rate.get_expiry(),
            self.everyone_rate.amount,
            self.everyone_rate.get_expiry(),
            hold,
        ]
        self._script = redis.register_script(PRESSURE) if mode == "auto" else None
        self._memory = FixedWindowRateLimiter(MemoryStorage())  # while Redis refuses
        self._held: dict[str, float] = {}
        self._lock = threading.Lock()
        self._everyone = False

    def required(self, network: str) -> bool:
        """Whether this sign-up (from network) needs a solved challenge; counts it in auto."""
        if self.mode != "auto":
            return self.mode == "always"
        keys = [
            f"{KEY_PREFIX}count:network:{network}",
            f"{KEY_PREFIX}count:everyone",
            f"{KEY_PREFIX}on:network:{network}",
            f"{KEY_PREFIX}on:everyone",
        ]
        try:
            answer = self._script(keys=keys, args=self.args) if self._script else [0, 0]
            on_network, on_everyone = int(answer[0]), int(answer[1])
        except RedisError as error:
            log.warning("challenge pressure counted in memory: Redis unavailable (%s)", error)
            on_network, on_everyone = self._in_memory(network)
        self._report(network, on_network, on_everyone)
        return bool(on_network or on_everyone)

    def _in_memory(self, network: str) -> tuple[int, int]:
        """PRESSURE's answer, from this process's own counts."""
        return (
            self._over(self.network_rate, "network", network),
            self._over(self.everyone_rate, "everyone", "all"),
        )

    def _over(self, rate, scope: str, name: str) -> int:
        now = time.monotonic()
        key = f"{scope}/{name}"
        over = not self._memory.hit(rate, scope, name)
        with self._lock:
            if len(self._held) > 10_000:
                self._held = {k: until for k, until in self._held.items() if until > now}
            held = self._held.get(key, 0.0) > now
            if over:
                self._held[key] = now + self.hold
                return 1 if held else 2
            return 1 if held else 0

    def _report(self, network: str, on_network: int, on_everyone: int) -> None:
        """Count and log a change of state (2: engaged just now)."""
        if on_network == 2:
            ENGAGED.labels("network").inc()
            log.warning("challenge required for client network %s: over its rate", network)
        if on_everyone == 2:
            ENGAGED.labels("everyone").inc()
            log.warning("challenge required for every sign-up: over the overall rate")
        everyone = bool(on_everyone)
        if everyone != self._everyone:
            self._everyone = everyone
            EVERYONE.set(int(everyone))
            if not everyone:
                log.warning("challenge no longer required for every sign-up: calm again")
