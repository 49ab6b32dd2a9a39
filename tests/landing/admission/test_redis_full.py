"""A Redis at maxmemory: sign-ups still flow, and operators are told (docs/capacity.md).

A private redis-server of our own on a free port (nothing on disk, killed afterwards), with
a tiny maxmemory, filled to it; the app's REDIS_URL points there, the worker stores rows as
ever. noeviction is compose's policy: writes are refused, so the intake limits in memory and
stores no status. allkeys-lru, the alternative docs/capacity.md weighs, evicts instead.
"""

import json
import logging
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families

from harness.services import private_redis
from landing.shared.db import Registration
from landing.shared.results import status_key_in
from tests.support.services import wait_for

MAXMEMORY = 4 * 2**20
ADMITTED_IN_MEMORY = "landing_signups_admitted_in_memory_total"


@contextmanager
def full_redis(policy: str) -> Iterator[redis.Redis]:
    """A redis-server at its maxmemory under policy: refusing writes, or evicting."""
    if shutil.which("redis-server") is None and not os.environ.get("CI"):
        pytest.skip("no redis-server to start a private Redis with")
    options = ("--maxmemory", str(MAXMEMORY), "--maxmemory-policy", policy)
    with private_redis(*options) as server:
        client = server.client(timeout=5)
        try:
            _fill(client)
            yield client
        finally:
            client.close()


def _fill(client: redis.Redis) -> None:
    """Write filler until Redis refuses (noeviction) or has started evicting."""
    for i in range(10 * MAXMEMORY // 4096):
        try:
            client.set(f"filler:{i}", b"x" * 4096)
        except redis.exceptions.OutOfMemoryError:
            return
        if client.info("stats")["evicted_keys"] > 10:
            return
    raise AssertionError("Redis never filled up")


def post(client, phone: str):
    body = {"phone": phone, "request_id": str(uuid.uuid4())}
    return client.post("/api/register/", data=json.dumps(body), content_type="application/json")


def admitted_in_memory(client, reason: str) -> float:
    families = text_string_to_metric_families(client.get("/metrics").text)
    for family in families:
        for sample in family.samples:
            if sample.name == ADMITTED_IN_MEMORY and sample.labels == {"reason": reason}:
                return sample.value
    return 0.0


def stored(ids: list[str]) -> bool:
    """Every one of ids has its row in PostgreSQL."""
    return Registration.select().where(Registration.request_id.in_(ids)).count() == len(ids)


def ready(client) -> tuple[int, dict]:
    response = client.get("/ready")
    return response.status_code, response.json


def test_a_full_redis_refusing_writes_still_takes_sign_ups(make_app, worker, caplog):
    with full_redis("noeviction") as store:
        port = store.connection_pool.connection_kwargs["port"]
        app = make_app(redis_url=f"redis://127.0.0.1:{port}/0")
        client = app.test_client()
        before = {reason: admitted_in_memory(client, reason) for reason in ("full", "unavailable")}
        with caplog.at_level(logging.WARNING, logger="landing.admission.gate"):
            responses = [post(client, f"0912555{i:04d}") for i in range(3)]
        assert [r.status_code for r in responses] == [202] * 3
        ids = [r.json["request_id"] for r in responses]

        # Stored by the worker, as ever: the row is the promise.
        wait_for(lambda: stored(ids), 30)
        # No status in the full Redis: a visitor's page reads 404 until it gives up.
        backend = app.extensions["results"]
        assert not any(store.exists(status_key_in(backend, request_id)) for request_id in ids)
        assert client.get(f"/api/register/{ids[0]}").status_code == 404

        # Told: the log says full, not unavailable; the counter, by reason; /ready, 200.
        refusals = [r.getMessage() for r in caplog.records if r.name == "landing.admission.gate"]
        assert refusals and all("Redis is full (maxmemory)" in line for line in refusals)
        assert admitted_in_memory(client, "full") - before["full"] == 3
        assert admitted_in_memory(client, "unavailable") == before["unavailable"]
        status, body = ready(client)
        assert status == 200 and body["status"] == "degraded", body
        assert body["checks"]["redis"] == "degraded: full (maxmemory, noeviction)"
        assert {body["checks"][name] for name in ("postgresql", "rabbitmq", "mongodb")} == {"ok"}

        # The limits still hold, in this process's memory: a number's 5 an hour.
        phone = "09125559999"
        answers = [post(client, phone).status_code for _ in range(6)]
        assert answers == [202] * 5 + [429]


def test_a_full_redis_that_evicts_keeps_statuses_and_says_degraded(make_app, worker):
    with full_redis("allkeys-lru") as store:
        port = store.connection_pool.connection_kwargs["port"]
        app = make_app(redis_url=f"redis://127.0.0.1:{port}/0")
        client = app.test_client()
        before = {reason: admitted_in_memory(client, reason) for reason in ("full", "unavailable")}
        response = post(client, "09125550000")
        assert response.status_code == 202
        request_id = response.json["request_id"]
        wait_for(lambda: stored([request_id]), 30)
        # The filler made room: the status was placed, limits counted in Redis.
        assert store.exists(status_key_in(app.extensions["results"], request_id))
        assert admitted_in_memory(client, "full") == before["full"]
        status, body = ready(client)
        assert status == 200, body
        assert body["checks"]["redis"] == "degraded: full (maxmemory, allkeys-lru)"


def test_ready_is_ok_with_room_to_spare(app):
    status, body = ready(app.test_client())
    assert (status, body["status"], body["checks"]["redis"]) == (200, "ok", "ok")
