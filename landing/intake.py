"""The intake: sign-ups accepted by many requests at once, made durable together.

Before its 202 a valid sign-up needs its client address and its number under their limits
(and counted), its `queued` status, and RabbitMQ's confirm of a message holding it. Request
by request that is four Redis round trips and a publish with its confirm, each. Here the
requests of a process share them (group commit): whoever's turn it is takes every sign-up
waiting, admits them all in one Redis call (a script: for each sign-up both limits, both
counts, the status) and hands the admitted ones to the publisher as register_batch
messages. The turn ends there: each request then waits for its own message's confirm while
the next batch is admitted and published, so confirms (RabbitMQ's disk flushes) overlap
instead of taking turns. Before it writes, the turn lets every request gevent has ready run
up to the batch (GroupCommit's gather): a request alone is never held back by a timer, and
under load batches grow instead of round trips.

The counters are the limits library's fixed windows, in flask-limiter's storage and under
keys of its form (a number's is a keyed hash of it, never the number: landing.limits), so
erasure finds them and an invalid request from the same address counts against the same
window (count_refused).
While Redis is down, the limits hold per process in memory, as flask-limiter's fallback does.
A `queued` status never replaces what is already there: a client retrying a request_id a
worker already stored would otherwise see `registered` turn back into `queued`.

A request_id is an idempotency key: the first number admitted with it binds it (a keyed
fingerprint, never the number, kept as long as the status). The same id with the same
number is the same sign-up again; with another number it is refused (RequestIdTaken) before
anything is counted against the number or queued. While Redis is down nothing is bound, and
the workers' own check (actors.rows) is what catches a second number.
"""

import logging
import math
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from dramatiq.results.backend import wrap_result
from dramatiq.results.backends import RedisBackend
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter
from prometheus_client import Counter
from redis.exceptions import OutOfMemoryError, RedisError

from landing.intake_scripts import ADMIT, COUNT_REFUSED, WITHDRAW
from landing.limits import REGISTER_SCOPE, PhoneKeys, counter_key
from landing.shared.group_commit import GroupCommit
from landing.shared.publisher import Publisher, confirmed
from landing.shared.results import binding_key, phone_fingerprint, status_key_in
from landing.shared.signup import Outcome, SignUp, registration_batch_message
from landing.visitor import client_bucket

log = logging.getLogger(__name__)

# Sign-ups per register_batch message: a worker stores a message's sign-ups in one
# statement, and a message stays far below RabbitMQ's and dramatiq's size limits.
MAX_PER_MESSAGE = 100
# Times a batch's writer yields for more requests first (GroupCommit): measured at c=64,
# batches grew from ~3 to ~16 sign-ups and web CPU per sign-up fell by a tenth.
GATHER = 8


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


class Limited(Exception):
    """A limit is used up; retry_after seconds until its window resets."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(self.__doc__)
        self.retry_after = max(1, retry_after)


class AddressLimited(Limited):
    """Too many attempts from your address; try again later."""


class PhoneLimited(Limited):
    """Too many attempts for this number; try again later."""


class RequestIdTaken(Exception):
    """This request_id was already used for another phone number; send a new request_id."""


@dataclass(frozen=True, slots=True)
class Keys:
    """Where a sign-up is counted and its status kept."""

    address: str
    phone: str
    status: str
    binding: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class _Pending:
    """An admitted sign-up on its way: its message's confirm, and what to undo without it."""

    confirm: Future
    keys: Keys
    # Whether it placed its status and its binding; None: admitted in memory, nothing in
    # Redis to undo.
    placed: tuple[bool, bool] | None


class Intake:
    """submit(signup) returns once RabbitMQ has confirmed it, or raises why not: Limited
    (AddressLimited, PhoneLimited), RequestIdTaken, PublishFailed (no confirm in time),
    FlushInterrupted."""

    def __init__(
        self,
        backend: RedisBackend,
        publisher: Publisher,
        limits: tuple[str, str],
        ttl: int,
        phone_keys: PhoneKeys,
    ) -> None:
        """limits: per client address and per number; ttl: seconds a status is kept;
        phone_keys: where a number is counted."""
        self.backend, self.publisher, self.phone_keys = backend, publisher, phone_keys
        self.address_limit, self.phone_limit = parse(limits[0]), parse(limits[1])
        self.args = [
            *(self.address_limit.amount, self.address_limit.get_expiry()),
            *(self.phone_limit.amount, self.phone_limit.get_expiry()),
            backend.encoder.encode(wrap_result(Outcome.QUEUED)),
            ttl * 1000,
        ]
        self.admit = backend.client.register_script(ADMIT)  # sent once, then run by its SHA
        self.withdraw = backend.client.register_script(WITHDRAW)
        self.count = backend.client.register_script(COUNT_REFUSED)
        self.in_memory = FixedWindowRateLimiter(MemoryStorage())  # while Redis is down
        self._batches = GroupCommit(self._write, gather=GATHER)

    def submit(self, signup: SignUp) -> None:
        pending = self._batches.submit(signup)  # Limited, FlushInterrupted
        failed = confirmed(pending.confirm, time.monotonic() + self.publisher.timeout)
        if failed is not None:
            self._withdraw(pending)
            raise failed

    def count_refused(self, ip: str | None) -> int | None:
        """Count a request refused as invalid against its address (client_ip): None while
        under the limit, else the seconds until its window resets.

        The same counter, storage and fallback as a sign-up's (in memory while Redis is
        down), so both kinds of request share one window.
        """
        key = counter_key(self.address_limit, REGISTER_SCOPE, client_bucket(ip))
        try:
            reset = self.count(keys=[key], args=self.args[:2])
        except RedisError:
            log.warning("per-address limit counted in memory: Redis unavailable")
            return self._hit_in_memory(self.address_limit, key)
        return None if reset < 0 else max(1, reset)

    def _write(self, batch: Sequence[SignUp]) -> list[_Pending | Exception]:
        keys = [self._keys(signup) for signup in batch]
        admitted = self._admit(keys)
        taken = [i for i, answer in enumerate(admitted) if not isinstance(answer, Exception)]
        confirms = self._send([batch[i] for i in taken])
        outcomes: list[_Pending | Exception] = list(admitted)
        for i, confirm in zip(taken, confirms, strict=True):
            outcomes[i] = _Pending(confirm, keys[i], admitted[i])
        return outcomes

    def _keys(self, signup: SignUp) -> Keys:
        return Keys(
            counter_key(self.address_limit, REGISTER_SCOPE, client_bucket(signup.ip)),
            counter_key(self.phone_limit, self.phone_keys(signup.phone)),
            status_key_in(self.backend, signup.request_id),
            binding_key(signup.request_id),
            phone_fingerprint(signup.request_id, signup.phone),
        )

    def _admit(self, keys: list[Keys]) -> list[tuple[bool, bool] | Exception | None]:
        """Each sign-up's admission: whether it placed its status and its binding (None:
        Redis was down and it was counted in memory), or which limit it hit (Limited), or
        that its request_id is taken (RequestIdTaken)."""
        try:
            answers = self._run_admit(keys)
        except RedisError as error:
            # A sign-up matters more than its status page: limited in memory meanwhile.
            why = redis_refused(error, len(keys))  # full (maxmemory) or unavailable, counted
            log.warning("limits held in memory, statuses not stored: %s (%s)", why, error)
            return [self._admit_in_memory(k) for k in keys]
        return [
            (bool(answer[1]), bool(answer[2])) if answer[0] else _refusal(answer)
            for answer in answers
        ]

    def _run_admit(self, keys: list[Keys]) -> list:
        flat = [key for k in keys for key in (k.address, k.phone, k.status, k.binding)]
        args = [*self.args, *(k.fingerprint for k in keys)]
        return self.admit(keys=flat, args=args)  # EVALSHA (EVAL once if Redis forgot it)

    def _admit_in_memory(self, keys: Keys) -> Limited | None:
        """Admitted (None: counted in this process only, no status), or which limit it hit."""
        for item, key, refusal in (
            (self.address_limit, keys.address, AddressLimited),
            (self.phone_limit, keys.phone, PhoneLimited),
        ):
            if (retry_after := self._hit_in_memory(item, key)) is not None:
                return refusal(retry_after)
        return None

    def _hit_in_memory(self, item: RateLimitItem, key: str) -> int | None:
        """Count key against item in this process: None while under it, else the seconds
        until its window resets."""
        if self.in_memory.hit(item, key):
            return None
        reset = self.in_memory.get_window_stats(item, key).reset_time
        return max(1, math.ceil(reset - time.time()))

    def _send(self, signups: list[SignUp]) -> list[Future]:
        """Each sign-up's message's confirm, its messages sent (not waited for)."""
        confirms = []
        for i in range(0, len(signups), MAX_PER_MESSAGE):
            chunk = signups[i : i + MAX_PER_MESSAGE]
            confirm = self.publisher.send(registration_batch_message(chunk))
            confirms += [confirm] * len(chunk)
        return confirms

    def _withdraw(self, pending: _Pending) -> None:
        if pending.placed is None:
            return
        args = [self.args[4], *("1" if placed else "0" for placed in pending.placed)]
        keys = [pending.keys.phone, pending.keys.status, pending.keys.binding]
        try:
            self.withdraw(keys=keys, args=args)
        except RedisError:
            log.warning("a refused sign-up left counted and queued: Redis unavailable")


def _refusal(answer: list) -> Limited | RequestIdTaken:
    """Why ADMIT refused a sign-up: {0, seconds to the reset, which}."""
    if answer[2] == 2:
        return RequestIdTaken(RequestIdTaken.__doc__)
    return (AddressLimited, PhoneLimited)[answer[2]](answer[1])
