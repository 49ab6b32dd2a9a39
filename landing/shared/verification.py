"""One-time codes sent by SMS, kept in Redis: issued by the workers, checked by the web.

A sign-up's code record (a Redis hash under its request_id) holds the code's HMAC, never
the code, when it expires, how many guesses it has had, when the last one was sent, and the
stored registration it proves (a duplicate sign-up's code proves the row its number already
has). The record itself lives as long as a status does (RESULT_TTL), so a code can be sent
again after the first one expired. Every guess is counted before it is compared, in the
same transaction as the read: concurrent guesses cannot share one count.
"""

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from enum import StrEnum
from typing import cast

import redis

from landing.shared.settings import Settings
from landing.shared.sms_budgets import Budgets, Limits

DIGITS = 6


class Check(StrEnum):
    """What a guess at a code came to."""

    VERIFIED = "verified"
    WRONG = "wrong"
    EXPIRED = "expired"  # past its time, or out of guesses: a new one must be sent
    LOCKED = "locked"
    UNKNOWN = "unknown"  # no code was sent for this sign-up (yet, or any longer)


@dataclass(frozen=True)
class Guess:
    """A guess's outcome; target is the verified registration's request_id."""

    check: Check
    left: int = 0
    target: str = ""
    at: float = 0.0  # when it was first verified


def record_key(request_id: str) -> str:
    return f"landing:sms:{request_id}"


def new_code() -> str:
    """DIGITS random decimal digits (leading zeros kept)."""
    return f"{secrets.randbelow(10**DIGITS):0{DIGITS}d}"


class Codes:
    """Code records in Redis: issue (workers), guess and claim_resend (web), state."""

    def __init__(
        self,
        client: redis.Redis,
        secret: str,
        ttl: int,
        attempts: int,
        cooldown: int,
        record_ttl: int,
    ) -> None:
        self.client, self.secret = client, secret.encode()
        self.ttl, self.attempts, self.cooldown = ttl, attempts, cooldown
        self.record_ttl = max(record_ttl, ttl)

    def digest(self, request_id: str, code: str) -> str:
        """The code's HMAC, keyed per sign-up: a copy of Redis gives no code back, and one
        digest computed for all 10^6 codes serves no other sign-up."""
        message = f"{request_id}:{code}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def open(self, request_id: str, target: str, network: str) -> None:
        """Create the record of a sign-up about to be sent its first code (no code yet)."""
        key = record_key(request_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "target", target)
            pipe.hsetnx(key, "network", network)
            pipe.expire(key, self.record_ttl)
            pipe.execute()

    def read(self, request_id: str) -> dict[str, str]:
        """The record's fields as text ({} when there is none)."""
        raw = cast(dict, self.client.hgetall(record_key(request_id)))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def issue(self, request_id: str) -> str:
        """A fresh code for the sign-up: its digest stored, its guesses reset. Returns it."""
        code = new_code()
        now = time.time()
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hset(
                record_key(request_id),
                mapping={
                    "digest": self.digest(request_id, code),
                    "expires": f"{now + self.ttl:.3f}",
                    "tries": 0,
                    "sent": f"{now:.3f}",
                    "state": "sent",
                },
            )
            pipe.expire(record_key(request_id), self.record_ttl)
            pipe.execute()
        return code

    def withdraw(self, request_id: str) -> None:
        """The code just issued did not go out: its digest is dropped, so no guess is ever
        compared with it (issuing reset the guesses; a send that fails must not hand out a
        fresh set of them for nothing)."""
        key = record_key(request_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hdel(key, "digest")
            pipe.hset(key, "state", "failed")
            pipe.execute()

    def note(self, request_id: str, state: str) -> None:
        """Record why no code went out (over_budget, not_mobile, failed), if the record is there."""
        key = record_key(request_id)
        if self.client.exists(key):
            self.client.hset(key, "state", state)

    def guess(self, request_id: str, code: str) -> Guess:
        """Count one guess at the sign-up's code, then compare it; a right one is used up."""
        key = record_key(request_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hincrby(key, "tries", 1)
            pipe.hmget(key, ["digest", "expires", "target", "verified"])
            tries, (digest, expires, target, verified) = pipe.execute()
        if target is None:
            self.client.delete(key)  # only the count this guess made: no record was there
            return Guess(Check.UNKNOWN)
        if verified:
            return Guess(Check.VERIFIED, target=target.decode(), at=float(verified))
        if digest is None or float(expires) < time.time():
            return Guess(Check.EXPIRED)
        if tries > self.attempts:
            return Guess(Check.LOCKED)
        if not hmac.compare_digest(digest.decode(), self.digest(request_id, code)):
            return Guess(
                Check.LOCKED if tries == self.attempts else Check.WRONG, self.attempts - tries
            )
        now = time.time()
        with self.client.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, "verified", f"{now:.3f}")
            pipe.hdel(key, "digest")
            pipe.hget(key, "verified")
            at = pipe.execute()[-1]
        return Guess(Check.VERIFIED, target=target.decode(), at=float(at))

    def claim_resend(self, request_id: str) -> float | None:
        """Take the sign-up's next send if its cooldown is over: None when taken, else the
        seconds left. KeyError when the sign-up has no record (no code was ever due)."""
        key = record_key(request_id)
        while True:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.watch(key)
                sent, target = cast(list, pipe.hmget(key, ["sent", "target"]))
                if target is None:
                    raise KeyError(request_id)
                left = float(sent or 0) + self.cooldown - time.time()
                if left > 0:
                    return left
                pipe.multi()
                pipe.hset(key, "sent", f"{time.time():.3f}")
                try:
                    pipe.execute()
                except redis.WatchError:
                    continue
                return None

    def verified(self, request_id: str) -> bool:
        return bool(self.client.hexists(record_key(request_id), "verified"))


def codes_for(config: Settings, client: redis.Redis) -> Codes:
    """The code records config describes, on client (the statuses' Redis)."""
    return Codes(
        client,
        config.verification_secret,
        config.verification_code_ttl,
        config.verification_attempts,
        config.verification_resend_cooldown,
        config.result_ttl,
    )


def budgets_for(config: Settings, client: redis.Redis) -> Budgets:
    """The SMS budgets config sets, on client."""
    limits = Limits(config.sms_number_budget, config.sms_network_budget, config.sms_hourly_budget)
    return Budgets(client, config.verification_secret, limits)
