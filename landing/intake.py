"""The intake: sign-ups accepted by many requests at once, made durable together.

Before its 202 an accepted sign-up needs its number under the per-phone limit (and counted),
its `queued` status, and RabbitMQ's confirm of a message holding it. Request by request that
is three Redis round trips and a publish with its confirm, each. Here the requests of a
process share them (group commit): whoever's turn it is takes every sign-up waiting, admits
them all in one Redis pipeline (one script per sign-up: the limit, the count, the status)
and publishes the admitted ones as register_batch messages, waiting once for their confirms.
A batch forms only while the previous one waits for its confirm: a request alone is never
held back by a timer, and under load the batch grows instead of the queue of round trips.

The phone counter is the limits library's fixed window, under the key flask-limiter would
use (a hash of the number, never the number), so erasure and operators find it as before.
A `queued` status never replaces what is already there: a client retrying a request_id a
worker already stored would otherwise see `registered` turn back into `queued`.
"""

import logging
from collections.abc import Sequence

from dramatiq.results.backend import wrap_result
from dramatiq.results.backends import RedisBackend
from limits import parse
from redis.exceptions import RedisError

from landing.limits import phone_key
from landing.shared.group_commit import GroupCommit
from landing.shared.publisher import Publisher, PublishFailed
from landing.shared.signup import Outcome, SignUp, registration_batch_message, status_key

log = logging.getLogger(__name__)

# Sign-ups per register_batch message: a worker stores a message's sign-ups in one
# statement, and a message stays far below RabbitMQ's and dramatiq's size limits.
MAX_PER_MESSAGE = 100
# KEYS: the phone's counter, the status. ARGV: the limit, its window in seconds, the
# `queued` value, its TTL in ms. {1, placed} when admitted, {0, seconds to the reset} if not.
ADMIT = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then
    return {0, redis.call('TTL', KEYS[1])}
end
if redis.call('INCR', KEYS[1]) == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if redis.call('EXISTS', KEYS[2]) == 1 then
    return {1, 0}
end
redis.call('LPUSH', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {1, 1}
"""
# A sign-up the broker did not take: its count given back, its `queued` taken away (only
# if this request put it there: a result or an earlier attempt's status stays).
WITHDRAW = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then
    redis.call('DECR', KEYS[1])
end
if ARGV[2] == '1' then
    redis.call('LREM', KEYS[2], 0, ARGV[1])
end
"""


class PhoneLimited(Exception):
    """The number used its allowance up; retry_after seconds until its window resets."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("the phone number's limit is used up")
        self.retry_after = retry_after


class Intake:
    """submit(signup) returns once RabbitMQ has confirmed it, or raises why not:
    PhoneLimited, PublishFailed (the broker did not confirm), FlushInterrupted."""

    def __init__(
        self, backend: RedisBackend, publisher: Publisher, phone_limit: str, ttl_seconds: int
    ) -> None:
        self.backend, self.publisher = backend, publisher
        self.limit = parse(phone_limit)
        self.ttl_ms = ttl_seconds * 1000
        self.queued = backend.encoder.encode(wrap_result(Outcome.QUEUED))
        self.admit = backend.client.register_script(ADMIT)  # EVALSHA: each script sent once
        self.withdraw = backend.client.register_script(WITHDRAW)
        self._batches = GroupCommit(self._write)

    def submit(self, signup: SignUp) -> None:
        self._batches.submit(signup)

    def _write(self, batch: Sequence[SignUp]) -> list[Exception | None]:
        keys = [self._keys(signup) for signup in batch]
        admitted = self._admit(keys)
        outcomes: list[Exception | None] = [
            None if placed is not None else PhoneLimited(max(1, reset))
            for placed, reset in admitted
        ]
        taken = [i for i, (placed, _) in enumerate(admitted) if placed is not None]
        failed = self._publish([batch[i] for i in taken])
        lost = [i for i, error in zip(taken, failed, strict=True) if error is not None]
        for i, error in zip(taken, failed, strict=True):
            outcomes[i] = error
        self._withdraw([(keys[i], admitted[i][0]) for i in lost])
        return outcomes

    def _keys(self, signup: SignUp) -> tuple[str, str]:
        counter = "LIMITS:" + self.limit.key_for(phone_key(signup.phone))
        return counter, self.backend.build_message_key(status_key(signup.request_id))

    def _admit(self, keys: list[tuple[str, str]]) -> list[tuple[bool | None, int]]:
        """(placed its status, _) for each admitted sign-up, (None, seconds) for a refused one."""
        args = [self.limit.amount, self.limit.get_expiry(), self.queued, self.ttl_ms]
        try:
            with self.backend.client.pipeline(transaction=False) as pipe:  # each script is atomic
                for counter, status in keys:
                    self.admit(keys=[counter, status], args=args, client=pipe)
                answers = pipe.execute()
        except RedisError as error:
            # Fail open: a sign-up matters more than its limit or its status page.
            log.warning("phone limits and statuses not stored: Redis unavailable (%s)", error)
            return [(False, 0)] * len(keys)
        return [(bool(placed), 0) if ok else (None, int(placed)) for ok, placed in answers]

    def _publish(self, signups: list[SignUp]) -> list[Exception | None]:
        chunks = [signups[i : i + MAX_PER_MESSAGE] for i in range(0, len(signups), MAX_PER_MESSAGE)]
        failed = self.publisher.publish_all([registration_batch_message(c) for c in chunks])
        return [error for chunk, error in zip(chunks, failed, strict=True) for _ in chunk]

    def _withdraw(self, lost: list[tuple[tuple[str, str], bool]]) -> None:
        if not lost:
            return
        try:
            with self.backend.client.pipeline(transaction=False) as pipe:
                for (counter, status), placed in lost:
                    args = [self.queued, "1" if placed else "0"]
                    self.withdraw(keys=[counter, status], args=args, client=pipe)
                pipe.execute()
        except RedisError:
            log.warning("%d refused sign-ups left counted and queued: Redis unavailable", len(lost))


__all__ = ["Intake", "PhoneLimited", "PublishFailed"]
