"""Where a registration's status is kept: dramatiq's Redis result backend.

The register actor stores its outcome there and the web reads it (and writes the queued
placeholder); both build the backend here, so they agree on its keys and encoding.
"""

import logging

import redis
from dramatiq.results.backend import wrap_result
from dramatiq.results.backends import RedisBackend

from landing.shared.settings import Settings
from landing.shared.signup import status_key


def build_result_backend(config: Settings) -> RedisBackend:
    """Dramatiq's Redis result backend with short socket timeouts (Redis may be down)."""
    client = redis.Redis.from_url(
        config.redis_url,
        socket_timeout=config.redis_timeout,
        socket_connect_timeout=config.redis_timeout,
    )
    return RedisBackend(client=client)


class StatusWriter:
    """Stores many registrations' statuses in one round trip, as dramatiq's Results would.

    Each is what RedisBackend.store_result writes for the register message whose id is the
    request_id (a one-element list with a TTL), so the web reads a batch's sign-ups and a
    single register message's alike.
    """

    log = logging.getLogger(__name__)

    def __init__(self, backend: RedisBackend, ttl_seconds: int) -> None:
        self.backend = backend
        self.ttl_ms = ttl_seconds * 1000

    def store(self, statuses: list[tuple[str, str]]) -> None:
        """(request_id, outcome) pairs, each replacing what was there; RedisError if down."""
        if not statuses:
            return
        encode = self.backend.encoder.encode
        with self.backend.client.pipeline(transaction=False) as pipe:
            for request_id, outcome in statuses:
                key = self.backend.build_message_key(status_key(request_id))
                pipe.delete(key)
                pipe.lpush(key, encode(wrap_result(outcome)))
                pipe.pexpire(key, self.ttl_ms)
            pipe.execute()
