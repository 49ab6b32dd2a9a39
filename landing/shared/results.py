"""Where a registration's status is kept: dramatiq's Redis result backend.

The register actors store outcomes there and the web reads them (and writes `queued`
before it publishes); all build the backend here, so they agree on its keys and encoding.
"""

import hashlib
from collections.abc import Sequence

import redis
from dramatiq.results.backends import RedisBackend
from dramatiq.results.result import wrap_result

from landing.shared.settings import Settings
from landing.shared.signup import REGISTER, REGISTRATIONS


def build_result_backend(config: Settings) -> RedisBackend:
    """Dramatiq's Redis result backend with short socket timeouts (Redis may be down)."""
    client = redis.Redis.from_url(
        config.redis_url,
        socket_timeout=config.redis_timeout,
        socket_connect_timeout=config.redis_timeout,
    )
    return RedisBackend(client=client)


def status_key_in(backend: RedisBackend, request_id: str) -> str:
    """The Redis key of a registration's status: what backend.build_message_key gives the
    register message whose id is request_id (landing.shared.signup.status_key), without
    building that message for every sign-up."""
    name = f"{backend.namespace}:{REGISTRATIONS}:{REGISTER}:{request_id}"
    return hashlib.md5(name.encode()).hexdigest()


def binding_key(request_id: str) -> str:
    """The Redis key binding a request_id to its number's fingerprint while its status lives."""
    return f"landing:request-phone:{request_id}"


def phone_fingerprint(request_id: str, phone: str) -> str:
    """Tells whether two sign-ups of one request_id carry the same number, not the number.

    Keyed by the request_id, so no table of fingerprints computed once serves every key.
    """
    key = request_id.encode()[:64]
    return hashlib.blake2b(phone.encode(), key=key, digest_size=8).hexdigest()


class StatusWriter:
    """Stores many registrations' statuses in one round trip, as dramatiq's Results would.

    Each is what RedisBackend.store_result writes for the register message whose id is the
    request_id (a one-element list with a TTL), so the web reads a batch's sign-ups and a
    single register message's alike.
    """

    def __init__(self, backend: RedisBackend, ttl_seconds: int) -> None:
        self.backend = backend
        self.ttl_ms = ttl_seconds * 1000

    def store(
        self,
        statuses: list[tuple[str, str]],
        bindings: Sequence[tuple[str, str]] = (),
        forget: Sequence[str] = (),
    ) -> None:
        """(request_id, outcome) pairs, each replacing what was there, and (request_id,
        fingerprint) bindings renewed for as long (landing.admission.gate); the status and binding
        of each request_id in forget deleted. RedisError if down."""
        if not statuses and not forget:
            return
        encode = self.backend.encoder.encode
        # One transaction: a Redis at maxmemory refuses the LPUSH, and the whole of it then,
        # rather than deleting the status it was to replace.
        with self.backend.client.pipeline(transaction=True) as pipe:
            for request_id, outcome in statuses:
                key = status_key_in(self.backend, request_id)
                pipe.delete(key)
                pipe.lpush(key, encode(wrap_result(outcome)))
                pipe.pexpire(key, self.ttl_ms)
            for request_id, fingerprint in bindings:
                pipe.set(binding_key(request_id), fingerprint, px=self.ttl_ms)
            for request_id in forget:
                pipe.delete(status_key_in(self.backend, request_id), binding_key(request_id))
            pipe.execute()
