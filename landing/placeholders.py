"""The `queued` placeholders, written for many requests at once.

Every accepted sign-up writes one before its publish. Each is a Redis round trip of its own
otherwise; here the requests of a process share them (group commit): whoever's turn it is
writes every placeholder queued so far in one pipeline. Same layout as dramatiq's
RedisBackend (DEL, LPUSH, PEXPIRE per key), so a worker's result replaces it.
"""

from collections.abc import Sequence

from dramatiq.results.backends import RedisBackend
from redis.exceptions import RedisError

from actors.group_commit import GroupCommit

Placeholder = tuple[str, bytes, int]  # key, encoded value, ttl in milliseconds


def placeholder_writer(backend: RedisBackend) -> GroupCommit[Placeholder, None]:
    """A GroupCommit whose submit((key, value, ttl)) returns once Redis holds it."""

    def write(batch: Sequence[Placeholder]) -> list[Exception | None]:
        try:
            with backend.client.pipeline() as pipe:  # MULTI ... EXEC, as dramatiq does
                for key, value, ttl in batch:
                    pipe.delete(key)
                    pipe.lpush(key, value)
                    pipe.pexpire(key, ttl)
                pipe.execute()
        except RedisError as error:
            return [RedisError(str(error)) for _ in batch]
        return [None] * len(batch)

    return GroupCommit(write)
