"""The sign-up challenge: ALTCHA's proof of work, issued signed, verified once per sign-up.

A challenge is ALTCHA's published scheme (v1), made and checked by the `altcha` library:
the server picks a random salt and a secret number below max_number, and sends the salt,
SHA-256(salt + number) and an HMAC-SHA256 of that hash under CHALLENGE_SECRET; the expiry is
one of the salt's parameters, so it is signed too. The page finds the number by trying them
all (landing/static/solver.js), half of max_number on average; the server checks one hash
and one HMAC. Nothing is stored when a challenge is issued.

A solution is single-use: the first sign-up (request_id) it is sent with claims it in Redis
until the challenge expires (SET NX). The same request_id again is that sign-up retried (a
503, a lost answer), let through; any other request_id is refused as a replay.

While Redis refuses, the claims are kept in this process's memory instead: a sign-up matters
more than a perfect replay check, and the work itself (hash, signature, expiry) is still
checked in full, so nothing gets through unsolved. A solution replayed against another web
process during the outage would pass there once; the outage is logged and counted
(CLAIMED_IN_MEMORY).
"""

import base64
import binascii
import datetime
import json
import logging
import re
import threading
import time
from enum import StrEnum
from typing import Any, cast

from altcha.v1 import (
    SHA256,
    ChallengeOptions,
    Payload,
    create_challenge,
    extract_params,
    verify_solution,
)
from prometheus_client import Counter
from redis import Redis
from redis.exceptions import RedisError

from landing.schemas import MAX_SOLUTION

log = logging.getLogger(__name__)

ALGORITHM = SHA256
_HEX64 = re.compile(r"[0-9a-f]{64}")
CLAIM_PREFIX = "landing:challenge-used:"

CLAIMED_IN_MEMORY = Counter(
    "landing_challenge_claims_in_memory_total",
    "Challenge solutions whose single use was recorded in the web process's memory, not in"
    " Redis, because Redis refused.",
    registry=None,  # each app's registry registers it (WebMetrics)
)


class Verdict(StrEnum):
    """What a sign-up's challenge solution is: each one a metric label and a log word."""

    SOLVED = "solved"
    MISSING = "missing"
    INVALID = "invalid"  # not ours, not solved, or not a payload at all
    EXPIRED = "expired"
    REPLAYED = "replayed"  # solved, but already spent on another sign-up


class Challenges:
    """issue() a signed challenge; verify() a solution for a sign-up, once."""

    def __init__(self, secret: str, max_number: int, expires: int, redis: Redis) -> None:
        """secret: CHALLENGE_SECRET; max_number: the largest secret number (the work);
        expires: seconds a challenge stays solvable; redis: where solutions are claimed."""
        if not secret:
            raise ValueError("CHALLENGE_SECRET is empty: challenges must be signed")
        self._secret, self.max_number, self.expires = secret, max_number, expires
        self._redis = redis
        self._claimed: dict[str, tuple[str, float]] = {}  # while Redis refuses
        self._lock = threading.Lock()

    def issue(self) -> dict[str, Any]:
        """A new challenge, in the form ALTCHA's clients read (its JSON keys)."""
        expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.expires)
        options = ChallengeOptions(
            algorithm=ALGORITHM, max_number=self.max_number, hmac_key=self._secret, expires=expires
        )
        challenge = create_challenge(options)
        return {
            "algorithm": challenge.algorithm,
            "challenge": challenge.challenge,
            "maxnumber": challenge.max_number,
            "salt": challenge.salt,
            "signature": challenge.signature,
        }

    def verify(self, payload: str | None, request_id: str) -> Verdict:
        """Whether payload (base64 of the solved challenge's JSON) is a solution of one of our
        challenges, unexpired, and not spent on a sign-up other than request_id's."""
        if payload is None:
            return Verdict.MISSING
        solved = _parse(payload)
        if solved is None:
            return Verdict.INVALID
        verified, _ = verify_solution(
            cast(Any, solved), self._secret, check_expires=False
        )  # the expiry is checked below, and only once the signature says the salt is ours
        if not verified:
            return Verdict.INVALID
        expires = _expiry(solved)
        if expires is None:
            return Verdict.INVALID
        left = expires - time.time()
        if left <= 0:
            return Verdict.EXPIRED
        if not self._claim(solved["challenge"], request_id, left):
            return Verdict.REPLAYED
        return Verdict.SOLVED

    def _claim(self, challenge: str, request_id: str, seconds: float) -> bool:
        """Spend a solution on request_id: True unless another request_id spent it first."""
        key, ttl = CLAIM_PREFIX + challenge, max(1, int(seconds) + 1)
        try:
            before = cast(bytes | None, self._redis.set(key, request_id, nx=True, ex=ttl, get=True))
        except RedisError as error:
            CLAIMED_IN_MEMORY.inc()
            log.warning("challenge solution claimed in memory: Redis unavailable (%s)", error)
            return self._claim_in_memory(challenge, request_id, seconds)
        return before is None or _text(before) == request_id

    def _claim_in_memory(self, challenge: str, request_id: str, seconds: float) -> bool:
        now = time.monotonic()
        with self._lock:
            if len(self._claimed) > 10_000:  # forget the expired ones now and then
                self._claimed = {k: v for k, v in self._claimed.items() if v[1] > now}
            claimed = self._claimed.get(challenge)
            if claimed is not None and claimed[1] > now:
                return claimed[0] == request_id
            self._claimed[challenge] = (request_id, now + seconds)
            return True


def solution(challenge: dict[str, Any], number: int) -> str:
    """The payload a client sends for challenge solved with number (tests, the benchmark)."""
    solved = Payload(
        ALGORITHM, challenge["challenge"], number, challenge["salt"], challenge["signature"]
    )
    return solved.to_base64()


def _parse(payload: str) -> dict[str, Any] | None:
    """payload's fields, when it is ALTCHA's JSON in base64 with every field of its type."""
    if len(payload) > MAX_SOLUTION:
        return None
    try:
        solved = json.loads(base64.b64decode(payload, validate=True))
    except (ValueError, binascii.Error):  # not base64, not UTF-8, not JSON
        return None
    if not isinstance(solved, dict) or solved.get("algorithm") != ALGORITHM:
        return None
    number, salt = solved.get("number"), solved.get("salt")
    # A bool is an int to Python, and str(True) is no number the page would have sent.
    if type(number) is not int or number < 0 or not isinstance(salt, str):
        return None
    if not all(isinstance(solved.get(k), str) for k in ("challenge", "signature")):
        return None
    if not (_HEX64.fullmatch(solved["challenge"]) and _HEX64.fullmatch(solved["signature"])):
        return None
    return solved


def _expiry(solved: dict[str, Any]) -> int | None:
    """The expiry (Unix seconds) written into a verified solution's salt; None without one."""
    found = extract_params(cast(Any, solved)).get("expires")
    try:
        return int(found[0]) if found else None
    except ValueError:
        return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
