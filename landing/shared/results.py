"""Where a registration's status is kept: dramatiq's Redis result backend.

The register actor stores its outcome there and the web reads it (and writes the queued
placeholder); both build the backend here, so they agree on its keys and encoding.
"""

import redis
from dramatiq.results.backends import RedisBackend

from landing.shared.settings import Settings


def build_result_backend(config: Settings) -> RedisBackend:
    """Dramatiq's Redis result backend with short socket timeouts (Redis may be down)."""
    client = redis.Redis.from_url(
        config.redis_url,
        socket_timeout=config.redis_timeout,
        socket_connect_timeout=config.redis_timeout,
    )
    return RedisBackend(client=client)
