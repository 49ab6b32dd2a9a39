"""Sign-ups travel in batches: many requests share one message, a worker stores it at once.

On the real Redis, RabbitMQ, PostgreSQL and MongoDB stand-in: the web's intake, the
register_batch and log_attempts actors called as a worker thread would, and a real worker.
"""

import json
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from actors.attempts import log_attempts
from actors.registrations import StoreRefused
from landing.shared.db import Registration
from landing.shared.signup import History, history_entry, registration_batch_message, status_key
from tests.support.queues import take_all
from tests.support.services import wait_for
from tests.support.signups import attempt, dead_letters, signup, status_of

PHONES = [f"0912000{n:04d}" for n in range(40)]


def post(client, phone: str, **extra):
    body = json.dumps({"phone": phone, **extra})
    return client.post("/api/register/", data=body, content_type="application/json")


def history(mongo, request_id: str) -> list[str]:
    document = mongo.find_one({"request_id": request_id}) or {}
    return sorted({entry["status"] for entry in document.get("history", [])})


def test_requests_at_once_share_messages_and_each_is_in_exactly_one(clean, make_app, broker):
    app = make_app(rate_limit="1000/minute")
    with ThreadPoolExecutor(16) as pool:
        answers = list(pool.map(lambda phone: post(app.test_client(), phone), PHONES))
    assert [answer.status_code for answer in answers] == [202] * len(PHONES)
    messages = take_all(broker, "registrations")
    carried = [item["request_id"] for message in messages for item in message.args[0]]
    assert sorted(carried) == sorted(answer.json["request_id"] for answer in answers)
    assert {message.actor_name for message in messages} == {"register_batch"}
    assert len(messages) < len(PHONES)  # they did share


def test_a_batch_stores_each_sign_up_once_with_its_status_and_history(
    clean, workers, client, mongo
):
    earlier = signup(phone=PHONES[0])
    workers.register_batch([earlier.as_message()])
    new, again = signup(phone=PHONES[1]), signup(phone=PHONES[0])
    batch = [new.as_message(), again.as_message(), earlier.as_message()]  # earlier: a replay
    workers.register_batch(batch)
    workers.register_batch(batch)  # the whole message redelivered
    assert sorted(r.phone for r in Registration.select()) == PHONES[:2]
    assert [status_of(client, s.request_id) for s in (earlier, new, again)] == ["registered"] * 3
    # The status page says registered for a duplicate too; the result itself says which.
    backend = client.application.extensions["results"]
    assert backend.get_result(status_key(again.request_id)) == "duplicate"
    for message in take_all(workers.broker, "attempts"):
        log_attempts(*message.args)
    assert history(mongo, new.request_id) == [History.QUEUED, History.SUCCESS_POSTGRES]
    assert history(mongo, again.request_id) == [History.DUPLICATE_DETECTED, History.QUEUED]


def test_a_sign_up_postgres_refuses_fails_alone_into_the_dead_letters(workers, worker, client):
    good, bad = signup(phone=PHONES[2]), signup(phone="1" * 11)  # CHECK refuses it
    unreadable = {"request_id": str(uuid.uuid4()), "phone": PHONES[3]}  # fields missing
    workers.broker.enqueue(
        registration_batch_message([good]).copy(
            args=([good.as_message(), bad.as_message(), unreadable],)
        )
    )
    refused = wait_for(
        lambda: (found := dead_letters("registrations")) and len(found) == 2 and found
    )
    assert sorted(m.message_id for m in refused) == sorted(
        [bad.request_id, unreadable["request_id"]]
    )
    assert {m.actor_name for m in refused} == {"register"}
    assert [r.phone for r in Registration.select()] == [PHONES[2]]
    assert status_of(client, good.request_id) == "registered"
    wait_for(lambda: status_of(client, bad.request_id) == "failed")


def test_not_a_list_is_dead_lettered_at_once(clean, workers):
    with pytest.raises(StoreRefused):
        workers.register_batch({"phone": PHONES[4]})


def test_end_to_end_through_a_real_worker(client, worker, mongo):
    ids = [post(client, phone).json["request_id"] for phone in PHONES[:5]]
    wait_for(lambda: all(status_of(client, request_id) == "registered" for request_id in ids))
    assert Registration.select().count() == 5
    wait_for(lambda: all(history(mongo, i) == ["QUEUED", "SUCCESS_POSTGRES"] for i in ids), 15)


def test_log_attempts_replayed_changes_nothing(clean, mongo):
    sent = attempt()
    batch = [[sent, [history_entry(History.QUEUED)]], [attempt(PHONES[5]), []]]
    log_attempts(batch)
    log_attempts(batch)
    assert mongo.count_documents({}) == 2
    assert history(mongo, sent["request_id"]) == [History.QUEUED]


def test_the_intake_recovers_when_redis_forgets_its_scripts(client, settings):
    assert post(client, PHONES[6]).status_code == 202
    redis.Redis.from_url(settings.redis_url).script_flush()  # as a Redis restart does
    answer = post(client, PHONES[7])
    assert answer.status_code == 202
    assert status_of(client, answer.json["request_id"]) == "queued"
