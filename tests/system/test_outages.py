"""Real outages: stop PostgreSQL or RabbitMQ for a moment, then bring it back (always).

These need root and the services' own control commands, as on our machines and in CI.
On a laptop without them they skip; in CI (CI=true) a missing command is a failure.
"""

import json
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
from peewee import InterfaceError, OperationalError

from landing.shared.db import Registration, db
from tests.support.config import settings
from tests.support.services import control, wait_for

PHONE = "09127654321"


def postgres(action: str) -> None:
    version = sorted(Path("/etc/postgresql").iterdir())[-1].name
    control("pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action, "-m", "fast")


def postgres_answers() -> bool:
    try:
        psycopg2.connect(settings.database_url, connect_timeout=1).close()
        return True
    except psycopg2.OperationalError:
        return False


def stored(request_id: str):
    """The row, read on a fresh connection: the pool may still hand out pre-restart ones."""
    try:
        return Registration.get_or_none(Registration.request_id == request_id)
    except (OperationalError, InterfaceError):
        db.manual_close()
        return None


def post(client, body):
    return client.post("/api/register/", data=json.dumps(body), content_type="application/json")


def test_postgres_outage_is_retried_past_max_retries_until_it_ends(client, worker, mongo):
    if not Path("/etc/postgresql").is_dir():
        pytest.skip("no local PostgreSQL cluster to stop")
    postgres("stop")
    try:
        response = post(client, {"phone": PHONE})
        assert response.status_code == 202  # accepting needs RabbitMQ, not PostgreSQL
        request_id = response.json["request_id"]

        def failed_attempts():
            document = mongo.find_one({"request_id": request_id}) or {"history": []}
            count = sum(entry["status"] == "FAILED_RETRY" for entry in document["history"])
            return count > settings.max_retries + 1

        wait_for(failed_attempts, timeout=30)  # more failures than MAX_RETRIES allows bad data
    finally:
        postgres("start")
        wait_for(postgres_answers, timeout=60)
    wait_for(lambda: stored(request_id), timeout=30)
    wait_for(lambda: client.get(f"/api/register/{request_id}").json["status"] == "registered")
    assert client.get(f"/api/register/{request_id}").json["status"] == "registered"


def test_rabbitmq_outage_answers_503_in_bounded_time_then_recovers(clean, make_app, broker):
    client = make_app(publish_timeout=1.0).test_client()
    control("rabbitmqctl", "-q", "stop_app")
    try:
        started = time.monotonic()
        response = post(client, {"phone": PHONE, "request_id": str(uuid.uuid4())})
        elapsed = time.monotonic() - started
        assert response.status_code == 503
        assert response.json["error"] == "unavailable"
        assert elapsed < 5, f"a 503 must not wait on a dead broker ({elapsed:.1f}s)"
    finally:
        control("rabbitmqctl", "-q", "start_app")
        control("rabbitmqctl", "-q", "await_startup")
        del broker.connection  # this thread's cached connection died with the app
    wait_for(lambda: post(client, {"phone": PHONE}).status_code == 202, timeout=30, interval=0.5)
    assert Registration.select().count() == 0
