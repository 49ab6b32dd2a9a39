"""The `queued` placeholders, written in shared pipelines, on the real Redis."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from dramatiq.results.backend import wrap_result
from redis.exceptions import RedisError

from landing.placeholders import placeholder_writer
from landing.shared.results import build_result_backend
from landing.shared.signup import status_key
from tests.support.config import settings
from tests.support.services import free_port


def test_many_requests_get_placeholders_dramatiq_can_read(clean):
    backend = build_result_backend(settings)
    writer = placeholder_writer(backend)
    messages = [status_key(f"00000000-0000-4000-8000-{n:012d}") for n in range(50)]
    encoded = backend.encoder.encode(wrap_result("queued"))

    def mark(message):
        writer.submit((backend.build_message_key(message), encoded, 60_000))

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(mark, messages))
    # Exactly what dramatiq itself would have stored: its reader sees "queued", with a TTL.
    assert {backend.get_result(message) for message in messages} == {"queued"}
    ttl = redis.Redis.from_url(settings.redis_url).pttl(backend.build_message_key(messages[0]))
    assert 0 < ttl <= 60_000


def test_redis_down_fails_each_request_with_its_own_error(clean):
    down = settings.replace(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    writer = placeholder_writer(build_result_backend(down))
    with pytest.raises(RedisError):
        writer.submit(("landing:key", b"{}", 1000))


def test_a_placeholder_never_replaces_a_workers_result(clean):
    backend = build_result_backend(settings)
    message = status_key("00000000-0000-4000-8000-000000000001")
    backend.store_result(message, "registered", 60_000)  # as the Results middleware does
    encoded = backend.encoder.encode(wrap_result("queued"))
    placeholder_writer(backend).submit((backend.build_message_key(message), encoded, 60_000))
    assert backend.get_result(message) == "registered"
