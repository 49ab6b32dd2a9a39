"""What the admission tests share: a client of the tests' Redis."""

import pytest
import redis

from tests.support.config import settings


@pytest.fixture
def store():
    """The tests' Redis (its own db), answering within 2 s or raising."""
    client = redis.Redis.from_url(settings.redis_url, socket_timeout=2)
    yield client
    client.close()
