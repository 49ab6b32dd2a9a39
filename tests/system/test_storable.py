"""Only storable sign-ups are accepted: through the API, a real worker, PostgreSQL and MongoDB.

A 202 is a promise that the row will be stored, so whatever the client sends, an accepted
sign-up must end as exactly one row; and what PostgreSQL or BSON refuses for good goes to
the dead letters at once, while an outage keeps being retried.
"""

import itertools
import json
import uuid

import pytest
from peewee import OperationalError
from pymongo.errors import AutoReconnect

from actors import attempts as attempt_log
from actors.rows import Rows
from landing.schemas import PHONE_HELP
from landing.shared.db import Registration
from tests.support.config import settings as app_settings
from tests.support.services import wait_for
from tests.support.signups import PEER, dead_letters, message_carrying, status_of
from tests.support.signups import attempt as support_attempt


def post(client, body, headers=None, peer=PEER):
    return client.post(
        "/api/register/",
        data=json.dumps(body),
        content_type="application/json",
        headers=headers or {},
        environ_base={"REMOTE_ADDR": peer},
    )


def stored(request_id: str) -> Registration:
    return wait_for(lambda: Registration.get_or_none(Registration.request_id == request_id))


def failed_attempts(mongo, request_id: str) -> int:
    document = mongo.find_one({"request_id": request_id}) or {"history": []}
    return sum(entry["status"] == "FAILED_RETRY" for entry in document["history"])


@pytest.mark.parametrize(
    ("headers", "peer", "address"),
    [
        ({"X-Forwarded-For": "fe80::1%eth0"}, PEER, "fe80::1"),
        ({}, "fe80::1%eth0", "fe80::1"),  # gunicorn reached directly
        ({"X-Forwarded-For": "::ffff:10.1.2.3"}, PEER, "10.1.2.3"),
        ({}, "::ffff:10.1.2.3", "10.1.2.3"),
    ],
)
def test_addresses_inet_would_refuse_are_stored_normalised(client, worker, headers, peer, address):
    response = post(client, {"phone": "09123456789"}, headers, peer)
    assert response.status_code == 202
    assert stored(response.json["request_id"]).ip_address == address


def test_a_rejected_phone_with_a_lone_surrogate_is_logged_once_cleaned(client, worker, mongo):
    response = post(client, {"phone": "\ud800"}, {"User-Agent": "bot\x00/1"})
    assert response.status_code == 400
    assert response.json["fields"] == {"phone": [PHONE_HELP]}
    document = wait_for(lambda: mongo.find_one({"history.status": "INVALID"}), timeout=15)
    assert document["phone"] == "\ufffd" and document["user_agent"] == "bot/1"
    assert mongo.count_documents({}) == 1
    assert dead_letters("attempts") == []


def sign_up(**changes):
    request_id = str(uuid.uuid4())
    fields = {"request_id": request_id, "referrer": None, "ip": None, "user_agent": None}
    attempt = support_attempt("09123456789", **{**fields, **changes})
    return request_id, message_carrying(attempt, request_id)


@pytest.mark.parametrize(
    "changes",
    [{"ip": "not-an-ip"}, {"referrer": "x" * 3000}, {"user_agent": "nul\x00"}],
    ids=["not-an-ip", "referrer-too-long", "nul"],
)
def test_what_postgres_refuses_for_good_is_dead_lettered_after_one_attempt(
    client, worker, broker, mongo, changes
):
    request_id, message = sign_up(**changes)
    broker.enqueue(message)
    wait_for(lambda: status_of(client, request_id) == "failed")
    [dead] = wait_for(lambda: dead_letters("registrations"))
    assert dead.message_id == request_id
    assert dead.options.get("retries", 0) == 0  # as first delivered: never retried
    wait_for(lambda: failed_attempts(mongo, request_id))
    assert failed_attempts(mongo, request_id) == 1
    assert Registration.select().count() == 0


def test_an_attempt_neither_store_can_encode_is_dead_lettered_at_once_in_both(worker, broker):
    request_id, message = sign_up(referrer="camp\udc00aign")
    broker.enqueue(message)
    [refused] = wait_for(lambda: dead_letters("registrations"))
    [unlogged] = wait_for(lambda: dead_letters("attempts"))
    assert refused.options.get("retries", 0) == unlogged.options.get("retries", 0) == 0
    assert unlogged.args[0]["request_id"] == request_id


def failing(times: int, error: Exception, then):
    """A stand-in for then that raises error the first times calls (a service down, back)."""
    calls = itertools.count()

    def call(*args):
        if next(calls) < times:
            raise error
        return then(*args)

    return call


def test_a_postgres_outage_is_retried_past_max_retries(client, worker, broker, mongo, monkeypatch):
    outage = OperationalError("server closed the connection unexpectedly")
    times = app_settings.max_retries + 2
    monkeypatch.setattr(Rows, "store", failing(times, outage, Rows.store))
    request_id, message = sign_up()
    broker.enqueue(message)
    wait_for(lambda: status_of(client, request_id) == "registered")
    stored(request_id)
    wait_for(lambda: failed_attempts(mongo, request_id) == times, timeout=15)
    assert dead_letters("registrations") == []


def test_a_mongodb_outage_is_retried_until_the_log_is_written(worker, broker, mongo, monkeypatch):
    monkeypatch.setattr(attempt_log, "attempts", failing(3, AutoReconnect(), attempt_log.attempts))
    request_id, message = sign_up()
    broker.enqueue(message)
    document = wait_for(lambda: mongo.find_one({"request_id": request_id}), timeout=15)
    assert {entry["status"] for entry in document["history"]} == {"QUEUED", "SUCCESS_POSTGRES"}
    assert dead_letters("attempts") == []
