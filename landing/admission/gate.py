"""The gate: a batch of sign-ups admitted in one Redis call, or refused, before it is queued.

Before its 202 a valid sign-up needs its client address and its number under their limits
(and counted), its `queued` status, and its request_id bound to its number. One script does
all of that for a whole batch (scripts.ADMIT), so the intake's group commit pays one round
trip for many requests. A request refused before it became a sign-up counts against its
address in the same window (count_refused): flask-limiter counted every request before it
was parsed, and an address that floods us with bad requests must still be told to wait.

While Redis refuses, both limits hold per process in memory (fallback.py), with no status
stored. A `queued` status never replaces what is already there: a client retrying a
request_id a worker already stored would otherwise see `registered` turn back into `queued`.

A request_id is an idempotency key: the first number admitted with it binds it (a keyed
fingerprint, never the number, kept as long as the status). The same id with the same
number is the same sign-up again, counted once; with another number it is refused
(RequestIdTaken) before anything is counted against the number or queued. While Redis is
down nothing is bound, and the workers' own check (actors.rows) is what catches a second
number.
"""

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from dramatiq.results.backends import RedisBackend
from dramatiq.results.result import wrap_result
from limits import parse
from redis.exceptions import RedisError

from landing.admission.fallback import InMemoryLimits, redis_refused
from landing.admission.keys import REGISTER_SCOPE, Keys, PhoneKeys, counter_key
from landing.admission.refusals import AddressLimited, Limited, PhoneLimited, RequestIdTaken
from landing.admission.scripts import ADMIT, COUNT_REFUSED, WITHDRAW
from landing.shared.results import binding_key, phone_fingerprint, status_key_in
from landing.shared.signup import Outcome, SignUp
from landing.visitor import client_bucket

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Admitted:
    """A sign-up let through: where it was counted, and what to undo if it is not queued."""

    keys: Keys
    # Whether it placed its status and its binding (placing the binding is counting it
    # against its number: a retry of the same sign-up places neither); None: admitted in
    # memory, nothing in Redis to undo.
    placed: tuple[bool, bool] | None


class Gate:
    """admit(batch): each sign-up Admitted, or refused (Limited, RequestIdTaken); withdraw
    one the broker did not take; count_refused for a request that never became a sign-up."""

    def __init__(
        self, backend: RedisBackend, limits: tuple[str, str], ttl: int, phone_keys: PhoneKeys
    ) -> None:
        """limits: per client address and per number; ttl: seconds a status is kept;
        phone_keys: where a number is counted."""
        self.backend, self.phone_keys = backend, phone_keys
        self.address_limit, self.phone_limit = parse(limits[0]), parse(limits[1])
        self.args = [
            *(self.address_limit.amount, self.address_limit.get_expiry()),
            *(self.phone_limit.amount, self.phone_limit.get_expiry()),
            backend.encoder.encode(wrap_result(Outcome.QUEUED)),
            ttl * 1000,
        ]
        self._admit = backend.client.register_script(ADMIT)  # sent once, then run by its SHA
        self._withdraw = backend.client.register_script(WITHDRAW)
        self._count = backend.client.register_script(COUNT_REFUSED)
        self.in_memory = InMemoryLimits()  # while Redis refuses

    def keys(self, signup: SignUp) -> Keys:
        # Only a sign-up the schema accepted is admitted, and it always has its number.
        if signup.phone is None:
            raise ValueError("a sign-up without a phone number cannot be admitted")
        return Keys(
            counter_key(self.address_limit, REGISTER_SCOPE, client_bucket(signup.ip)),
            counter_key(self.phone_limit, self.phone_keys(signup.phone)),
            status_key_in(self.backend, signup.request_id),
            binding_key(signup.request_id),
            phone_fingerprint(signup.request_id, signup.phone),
        )

    def admit(self, batch: Sequence[SignUp]) -> list[Admitted | Limited | RequestIdTaken]:
        """Each sign-up's admission, in order: Admitted, or which limit it hit (Limited), or
        that its request_id is taken (RequestIdTaken)."""
        keys = [self.keys(signup) for signup in batch]
        try:
            answers = self.run(keys)
        except RedisError as error:
            why = redis_refused(error, len(keys))  # full (maxmemory) or unavailable, counted
            log.warning("limits held in memory, statuses not stored: %s (%s)", why, error)
            return [self._admit_in_memory(k) for k in keys]
        return [
            Admitted(k, (bool(answer[1]), bool(answer[2]))) if answer[0] else _refusal(answer)
            for k, answer in zip(keys, answers, strict=True)
        ]

    def run(self, keys: list[Keys]) -> list:
        """The admission script's raw answers for keys (scripts.ADMIT says their form)."""
        flat = [key for k in keys for key in (k.address, k.phone, k.status, k.binding)]
        args = [*self.args, *(k.fingerprint for k in keys)]
        return self._admit(keys=flat, args=args)  # EVALSHA (EVAL once if Redis forgot it)

    def withdraw(self, admitted: Admitted) -> None:
        """Give back a sign-up the broker did not take: its status, and its binding with its
        number's count, if it placed them (its address's count stays, as for any request)."""
        if admitted.placed is None:
            return
        args = [self.args[4], *("1" if placed else "0" for placed in admitted.placed)]
        keys = [admitted.keys.phone, admitted.keys.status, admitted.keys.binding]
        try:
            self._withdraw(keys=keys, args=args)
        except RedisError:
            log.warning("a refused sign-up left counted and queued: Redis unavailable")

    def count_refused(self, ip: str | None) -> int | None:
        """Count a request refused as invalid against its address (client_ip): None while
        under the limit, else the seconds until its window resets.

        The same counter, storage and fallback as a sign-up's (in memory while Redis is
        down), so both kinds of request share one window.
        """
        key = counter_key(self.address_limit, REGISTER_SCOPE, client_bucket(ip))
        try:
            reset = self._count(keys=[key], args=self.args[:2])
        except RedisError:
            log.warning("per-address limit counted in memory: Redis unavailable")
            return self.in_memory.hit(self.address_limit, key)
        return None if reset < 0 else max(1, reset)

    def _admit_in_memory(self, keys: Keys) -> Admitted | Limited:
        """Admitted with nothing placed (counted in this process only), or which limit."""
        for item, key, refusal in (
            (self.address_limit, keys.address, AddressLimited),
            (self.phone_limit, keys.phone, PhoneLimited),
        ):
            if (retry_after := self.in_memory.hit(item, key)) is not None:
                return refusal(retry_after)
        return Admitted(keys, None)


def _refusal(answer: list) -> Limited | RequestIdTaken:
    """Why ADMIT refused a sign-up: {0, seconds to the reset, which}."""
    if answer[2] == 2:
        return RequestIdTaken()
    return (AddressLimited, PhoneLimited)[answer[2]](answer[1])
