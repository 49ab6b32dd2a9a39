"""request_id is an idempotency key bound to its number: the web refuses a second number
before its 202, and the workers refuse one the web could not (Redis down or forgotten).

On the real Redis, RabbitMQ, PostgreSQL and MongoDB stand-in.
"""

import uuid

import pytest
import redis

from actors.broker import build_workers
from landing.shared.db import Registration
from landing.shared.results import binding_key
from landing.shared.signup import History
from tests.support.config import WEBHOOK_SECRET
from tests.support.http import assert_error, post
from tests.support.queues import take_all
from tests.support.signups import signup, status_of

FIRST, SECOND = "09120000001", "09350000002"


def carried(broker) -> list[str]:
    """The phones the queued register_batch messages carry."""
    messages = take_all(broker, "registrations")
    return [item["phone"] for message in messages for item in message.args[0]]


def test_the_same_id_with_the_same_number_is_the_same_sign_up(client, broker):
    request_id = str(uuid.uuid4())
    for _ in range(2):
        answer = post(client, {"phone": FIRST, "request_id": request_id})
        assert answer.status_code == 202
        assert answer.json["request_id"] == request_id
    assert carried(broker) == [FIRST, FIRST]  # one sign-up, which the worker stores once


def test_the_same_id_with_another_number_is_a_conflict_and_changes_nothing(
    clean, make_app, broker, settings
):
    client = make_app(phone_rate_limit="1/hour").test_client()
    request_id = str(uuid.uuid4())
    assert post(client, {"phone": FIRST, "request_id": request_id}).status_code == 202
    answer = post(client, {"phone": f"+98{SECOND[1:]}", "request_id": request_id})
    assert_error(answer, 409, "conflict")
    assert SECOND not in answer.get_data(as_text=True)
    assert carried(broker) == [FIRST]  # nothing queued for the second number
    assert status_of(client, request_id) == "queued"  # the first sign-up's status is kept
    # Nothing counted against the second number: its own allowance (one) is still there.
    assert post(client, {"phone": SECOND}).status_code == 202
    with redis.Redis.from_url(settings.redis_url) as store:
        assert SECOND not in str(store.get(binding_key(request_id)))  # a fingerprint only


def test_a_conflict_is_recorded_apart_in_the_attempt_log(clean, client, workers, mongo):
    request_id = str(uuid.uuid4())
    assert post(client, {"phone": FIRST, "request_id": request_id}).status_code == 202
    assert post(client, {"phone": SECOND, "request_id": request_id}).status_code == 409
    client.application.extensions["turned_away"].flush()
    for message in take_all(workers.broker, "attempts"):
        workers.broker.get_actor(message.actor_name)(*message.args)
    refused = mongo.find_one({"phone": SECOND})
    assert refused["request_id"] != request_id
    assert [entry["status"] for entry in refused["history"]] == [History.CONFLICT]


def test_the_worker_never_stores_nor_reports_registered_a_second_number(
    clean, workers, client, mongo
):
    first = signup(FIRST)
    second = signup(SECOND, request_id=first.request_id)  # the web could not check it
    workers.register_batch([first.as_message()])
    workers.register_batch([second.as_message()])
    assert [row.phone for row in Registration.select()] == [FIRST]
    assert status_of(client, first.request_id) == "conflict"
    # Its history goes apart from the stored sign-up's, under an id of its own.
    for message in take_all(workers.broker, "attempts"):
        workers.broker.get_actor(message.actor_name)(*message.args)
    assert mongo.find_one({"request_id": first.request_id})["phone"] == FIRST
    assert mongo.find_one({"phone": SECOND})["request_id"] != first.request_id


def test_two_numbers_of_one_id_in_one_batch_store_one_and_answer_conflict(clean, workers, client):
    first = signup(FIRST)
    second = signup(SECOND, request_id=first.request_id)
    workers.register_batch([first.as_message(), second.as_message()])
    assert Registration.select().count() == 1
    assert status_of(client, first.request_id) == "conflict"


@pytest.fixture(scope="module")
def announcing(settings, workers):
    """Workers with WEBHOOK_URL set: each new registration is queued for the webhook."""
    hooked = settings.replace(webhook_url="http://127.0.0.1:9/", webhook_secret=WEBHOOK_SECRET)
    built = build_workers(hooked)
    yield built
    built.forwarder.close()
    built.broker.close()


def test_a_conflict_is_never_announced(clean, announcing):
    first = signup(FIRST)
    announcing.register_batch([first.as_message()])
    announcing.register_batch([signup(SECOND, request_id=first.request_id).as_message()])
    announced = [m.args[0]["phone"] for m in take_all(announcing.broker, "webhooks")]
    assert announced == [FIRST]


def test_a_single_register_message_of_a_taken_id_is_a_conflict(clean, workers):
    first = signup(FIRST)
    workers.register_batch([first.as_message()])
    assert workers.register(signup(SECOND, request_id=first.request_id).as_message()) == "conflict"
    assert [row.phone for row in Registration.select()] == [FIRST]


def test_the_worker_binds_what_the_web_could_not_and_the_web_then_refuses(clean, workers, client):
    # Stored while Redis kept no binding (down at admission, or expired since).
    first = signup(FIRST)
    workers.register_batch([first.as_message()])
    answer = post(client, {"phone": SECOND, "request_id": first.request_id})
    assert_error(answer, 409, "conflict")
    assert status_of(client, first.request_id) == "registered"
