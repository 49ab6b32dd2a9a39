"""SMS budgets: how many codes may go to one number, one client network, and everyone.

SMS pumping is a script signing up numbers it profits from (premium ranges, a
complicit carrier's) so that we pay for texts to them. Per-address limits do not stop a
script spread over many addresses, so every code is charged to three budgets at once, in
one Redis script: its number's (a day), its client network's (an hour) and the hour's
overall, which caps what an attack can cost however it is spread. A code is sent only if
all three have room; a send that fails is given back. A number is counted under an HMAC of
it, so Redis holds no number, and erasure finds its counter with the same key.
"""

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

import redis

DAY, HOUR = 86_400, 3_600
# Each key's count goes up only if every key has room; a key's window starts with its first
# count (fixed windows: a burst at a window's end and the next's start costs two budgets,
# still bounded). Returns 0, or the index (1-based) of the first budget without room.
_CHARGE = """
for i, key in ipairs(KEYS) do
    if tonumber(redis.call('GET', key) or '0') >= tonumber(ARGV[i * 2 - 1]) then
        return i
    end
end
for i, key in ipairs(KEYS) do
    if redis.call('INCR', key) == 1 then
        redis.call('EXPIRE', key, ARGV[i * 2])
    end
end
return 0
"""
# A refund only lowers a count still there: one whose window ended meanwhile stays gone.
_REFUND = """
for _, key in ipairs(KEYS) do
    if redis.call('EXISTS', key) == 1 then redis.call('DECR', key) end
end
"""
NAMES = ("number", "network", "hourly")


def network_of(ip: str | None) -> str:
    """The client network a sign-up came from: an IPv4 /24, an IPv6 /48 ('' when unknown)."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ""
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


@dataclass(frozen=True)
class Limits:
    number: int  # per day
    network: int  # per hour
    hourly: int  # per hour, everyone


class Budgets:
    """charge() before a code is sent, refund() if it was not."""

    def __init__(
        self, client: redis.Redis, secret: str, limits: Limits, prefix: str = "landing:sms-budget"
    ) -> None:
        self.client, self.secret, self.limits = client, secret.encode(), limits
        self.prefix = prefix  # the keys' (tests give theirs apart)
        self._charge = client.register_script(_CHARGE)
        self._refund = client.register_script(_REFUND)

    def number_key(self, phone: str) -> str:
        digest = hmac.new(self.secret, phone.encode(), hashlib.sha256).hexdigest()
        return f"{self.prefix}:number:{digest}"

    def _keys(self, phone: str, network: str) -> list[str]:
        return [
            self.number_key(phone),
            f"{self.prefix}:network:{network or 'unknown'}",
            f"{self.prefix}:hourly",
        ]

    def charge(self, phone: str, network: str) -> str | None:
        """Count one code against all three budgets; the name of the first one without
        room instead (nothing counted then)."""
        limits = self.limits
        args = [limits.number, DAY, limits.network, HOUR, limits.hourly, HOUR]
        over = int(self._charge(keys=self._keys(phone, network), args=args))
        return NAMES[over - 1] if over else None

    def refund(self, phone: str, network: str) -> None:
        """Give back a charge whose code never went out."""
        self._refund(keys=self._keys(phone, network))
