"""POST -> RabbitMQ -> a real Dramatiq worker -> PostgreSQL and MongoDB, and the outages."""

import json
import uuid

from landing.shared.db import Registration
from tests.support.services import wait_for

PHONE = "09123456789"


def post(client, body):
    return client.post("/api/register/", data=json.dumps(body), content_type="application/json")


def status_of(client, request_id):
    return client.get(f"/api/register/{request_id}").json.get("status")


def logged(mongo, request_id, wanted):
    def attempt_logged():
        document = mongo.find_one({"request_id": request_id})
        if document and wanted <= {entry["status"] for entry in document["history"]}:
            return document
        return None

    return wait_for(attempt_logged, timeout=15)


def test_sign_up_reaches_postgres_then_mongo_and_reports_registered(client, worker, mongo):
    response = post(client, {"phone": "0912 345 6789", "referrer": "launch"})
    assert response.status_code == 202
    request_id = response.json["request_id"]
    wait_for(lambda: status_of(client, request_id) == "registered")
    row = Registration.get(Registration.request_id == request_id)
    assert row.phone == PHONE and row.referrer == "launch"
    document = logged(mongo, request_id, {"QUEUED", "SUCCESS_POSTGRES"})
    assert document["phone"] == PHONE
    assert document["user_agent"].startswith("Werkzeug")


def test_same_phone_twice_is_one_row_and_answers_like_a_new_one(client, worker, mongo):
    first = post(client, {"phone": PHONE})
    wait_for(lambda: status_of(client, first.json["request_id"]) == "registered")
    second = post(client, {"phone": "+989123456789"})
    second_id = second.json["request_id"]
    # The attempt history knows it was a duplicate; the public answers do not say so.
    logged(mongo, second_id, {"DUPLICATE_DETECTED"})
    assert status_of(client, second_id) == "registered"
    assert (second.status_code, second.json.keys()) == (first.status_code, first.json.keys())
    assert second.json["message"] == first.json["message"]
    assert Registration.select().count() == 1


def test_same_request_id_twice_is_one_row_and_one_log_document(client, worker, mongo):
    request_id = str(uuid.uuid4())
    for _ in range(2):
        assert post(client, {"phone": PHONE, "request_id": request_id}).status_code == 202
    wait_for(lambda: status_of(client, request_id) == "registered")
    logged(mongo, request_id, {"SUCCESS_POSTGRES"})
    wait_for(lambda: worker.broker.get_declared_queues() and _queues_idle(worker))
    assert Registration.select().count() == 1
    assert mongo.count_documents({"request_id": request_id}) == 1


def _queues_idle(worker) -> bool:
    counts = [worker.broker.get_queue_message_counts(q) for q in ("registrations", "attempts")]
    return all(sum(count) == 0 for count in counts)


def test_invalid_and_rate_limited_attempts_are_logged(clean, make_app, worker, mongo):
    client = make_app(rate_limit="2/hour").test_client()  # every answer counts
    assert post(client, {"phone": "12"}).status_code == 400
    assert post(client, {"phone": PHONE}).status_code == 202
    assert post(client, {"phone": "09350000000"}).status_code == 429

    def both_logged():
        statuses = {doc["history"][0]["status"]: doc for doc in mongo.find()}
        return statuses if {"INVALID", "RATE_LIMITED"} <= set(statuses) else None

    statuses = wait_for(both_logged, timeout=15)
    assert statuses["INVALID"]["phone"] == "12"
    assert statuses["RATE_LIMITED"]["phone"] == "09350000000"


def test_permanent_failure_reports_failed_and_dead_letters(client, worker, broker):
    # A phone the web would never send: the CHECK constraint refuses it on every retry.
    from tests.support.signups import attempt as support_attempt
    from tests.support.signups import message_carrying

    request_id = str(uuid.uuid4())
    attempt = support_attempt(
        "1" * 11, request_id=request_id, referrer=None, ip=None, user_agent=None
    )
    broker.enqueue(message_carrying(attempt, request_id))
    wait_for(lambda: status_of(client, request_id) == "failed", timeout=20)
    wait_for(lambda: broker.get_queue_message_counts("registrations")[2] == 1)
    assert Registration.select().count() == 0


def test_broker_unreachable_answers_503_and_writes_nothing(clean, make_app, broker):
    app = make_app(rabbitmq_url="amqp://guest:guest@127.0.0.1:1/%2F", publish_timeout=1.0)
    client = app.test_client()
    request_id = str(uuid.uuid4())
    response = post(client, {"phone": PHONE, "request_id": request_id})
    assert response.status_code == 503
    assert response.json["error"] == "unavailable"
    assert int(response.headers["Retry-After"]) >= 1
    assert client.get(f"/api/register/{request_id}").status_code == 404  # no placeholder left
    assert sum(broker.get_queue_message_counts("registrations")) == 0
    assert Registration.select().count() == 0


def test_redis_unreachable_still_accepts_and_registers(client, make_app, worker, caplog):
    cut_off = make_app(redis_url="redis://127.0.0.1:1/0").test_client()
    response = post(cut_off, {"phone": PHONE})
    assert response.status_code == 202
    assert "Redis unavailable" in caplog.text
    request_id = response.json["request_id"]
    wait_for(lambda: Registration.get_or_none(Registration.request_id == request_id))
    # The worker's own Redis is fine, so the status is readable through a healthy app.
    wait_for(lambda: status_of(client, request_id) == "registered")


def test_mongodb_unreachable_still_registers_and_the_log_catches_up(
    client, worker, mongo_server, mongo
):
    if not mongo_server.process:
        import pytest

        pytest.skip("MONGO_URL names a real MongoDB this test cannot stop")
    mongo_server.stop()
    try:
        response = post(client, {"phone": PHONE})
        assert response.status_code == 202
        request_id = response.json["request_id"]
        wait_for(lambda: status_of(client, request_id) == "registered")
        assert Registration.select().count() == 1
    finally:
        mongo_server.start()
    # Its log message retries with backoff and lands once MongoDB is back.
    logged(mongo, request_id, {"SUCCESS_POSTGRES"})
