"""The `queued` placeholders, written for many requests at once.

Every accepted sign-up writes one before its publish. Each is a Redis round trip of its own
otherwise; here the requests of a process share them (group commit): whoever's turn it is
writes every placeholder queued so far in one pipeline. Same layout as dramatiq's
RedisBackend (a one-element list with a TTL), so a worker's result replaces it.

A placeholder never replaces what is already there: a client retrying a request_id whose
first attempt was answered 503 yet reached a worker would otherwise turn its `registered`
back into `queued` (and a duplicate message changes no result if it is answered first).
"""

from collections.abc import Sequence

from dramatiq.results.backends import RedisBackend
from redis.exceptions import RedisError

from landing.shared.group_commit import GroupCommit

Placeholder = tuple[str, bytes, int]  # key, encoded value, ttl in milliseconds
# Set-if-absent for a list: one round trip, atomic with respect to a worker's result.
IF_ABSENT = """
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('LPUSH', KEYS[1], ARGV[1])
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
"""


def placeholder_writer(backend: RedisBackend) -> GroupCommit[Placeholder, None]:
    """A GroupCommit whose submit((key, value, ttl)) returns once Redis holds it."""
    if_absent = backend.client.register_script(IF_ABSENT)  # EVALSHA: the script sent once

    def write(batch: Sequence[Placeholder]) -> list[Exception | None]:
        try:
            with backend.client.pipeline(transaction=False) as pipe:  # each script is atomic
                for key, value, ttl in batch:
                    if_absent(keys=[key], args=[value, ttl], client=pipe)
                pipe.execute()
        except RedisError as error:
            return [RedisError(str(error)) for _ in batch]
        return [None] * len(batch)

    return GroupCommit(write)
