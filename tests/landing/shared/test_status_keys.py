"""A status's Redis key, computed without a message, is the one dramatiq's backend builds."""

import uuid

import pytest
import redis
from dramatiq.results.backends import RedisBackend

from landing.shared.results import status_key_in
from landing.shared.signup import status_key

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


def test_status_key_in_matches_dramatiqs_key_for_the_register_message():
    backend = RedisBackend(client=redis.Redis(host="127.0.0.1", port=1))  # never connects
    for request_id in (str(uuid.uuid4()), "not-a-uuid"):
        expected = backend.build_message_key(status_key(request_id))
        assert status_key_in(backend, request_id) == expected
