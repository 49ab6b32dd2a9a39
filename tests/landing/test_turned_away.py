"""Turned-away attempts are all logged, but cheaply: batched, capped per address, expiring,
and never able to change another attempt's document."""

import json
import uuid

from prometheus_client.parser import text_string_to_metric_families

from landing.shared.mongo import RECEIVED_AT_INDEX, ensure_indexes
from landing.shared.signup import LOG_TURNED_AWAY
from tests.support.http import post
from tests.support.queues import take_all
from tests.support.services import wait_for

PHONE = "09123456789"


def queued_messages(broker) -> list:
    """The attempts queue's messages; a batch goes out within a second of its first attempt."""
    return take_all(broker, "attempts", timeout_ms=1500)


def not_logged(client, status: str) -> float:
    text = client.get("/metrics").get_data(as_text=True)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "landing_attempts_not_logged_total" and sample.labels == {
                "status": status
            }:
                return sample.value
    return 0.0


def test_turned_away_attempts_share_one_message(client, broker):
    for n in range(5):
        assert post(client, {"phone": f"12{n}"}).status_code == 400
    [message] = queued_messages(broker)  # the batch goes out within a second
    assert message.actor_name == LOG_TURNED_AWAY
    batch = message.args[0]
    assert sorted(attempt["phone"] for attempt, _ in batch) == [f"12{n}" for n in range(5)]
    assert {entries[0]["status"] for _, entries in batch} == {"INVALID"}


def test_past_the_cap_an_address_is_counted_not_stored(clean, make_app, broker):
    client = make_app(turned_away_log_limit="3/hour").test_client()
    for n in range(5):
        assert post(client, {"phone": f"12{n}"}).status_code == 400
    other = {"environ_base": {"REMOTE_ADDR": "192.0.2.8"}}
    assert post(client, {"phone": "999"}, **other).status_code == 400
    stored = [attempt for m in queued_messages(broker) for attempt, _ in m.args[0]]
    assert sorted(a["phone"] for a in stored) == ["120", "121", "122", "999"]
    assert not_logged(client, "INVALID") == 2


def test_a_valid_request_id_names_the_turned_away_attempt(client, worker, mongo):
    request_id = str(uuid.uuid4())
    assert post(client, {"phone": "12", "request_id": request_id}).status_code == 400
    document = wait_for(lambda: mongo.find_one({"request_id": request_id}), timeout=15)
    assert document["phone"] == "12"
    assert [entry["status"] for entry in document["history"]] == ["INVALID"]


def test_a_turned_away_attempt_cannot_change_another_attempts_document(client, worker, mongo):
    accepted = post(client, {"phone": PHONE}).json["request_id"]
    wait_for(lambda: mongo.find_one({"request_id": accepted, "history.1": {"$exists": True}}))
    before = mongo.find_one({"request_id": accepted}, {"_id": 0})
    hostile = {"phone": "0912 000", "request_id": accepted, "referrer": "x" * 3000}
    response = client.post(
        "/api/register/", data=json.dumps(hostile), content_type="application/json"
    )
    assert response.status_code == 400
    claimed = wait_for(lambda: mongo.find_one({"claimed_request_id": accepted}), timeout=15)
    assert claimed["request_id"] != accepted and claimed["phone"] == "0912 000"
    assert mongo.find_one({"request_id": accepted}, {"_id": 0}) == before


def test_the_attempt_log_expires_after_log_retention_days(mongo):
    index = mongo.index_information()[RECEIVED_AT_INDEX]
    assert index["expireAfterSeconds"] == 90 * 86_400
    ensure_indexes(mongo, 30)  # a new lifetime: the index is made again
    assert mongo.index_information()[RECEIVED_AT_INDEX]["expireAfterSeconds"] == 30 * 86_400
