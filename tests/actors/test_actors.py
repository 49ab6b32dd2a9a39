"""The actors called directly, on the real PostgreSQL, RabbitMQ and MongoDB stand-in."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from actors.attempts import log_attempt
from actors.registrations import StoreFailed
from actors.rows import insert_batch
from landing.shared.db import Registration, db
from landing.shared.signup import History
from landing.shared.signup import history_entry as status
from landing.shared.tombstones import Tombstones
from tests.support.config import settings as test_settings
from tests.support.queues import take_all
from tests.support.signups import PHONE, attempt, signup

TOMBSTONES = Tombstones(test_settings.erasure_secret)

QUEUED, SUCCESS_POSTGRES = History.QUEUED, History.SUCCESS_POSTGRES


@pytest.fixture
def register(workers):
    """The register actor, called in this thread as a worker thread would call it."""
    return workers.register


def queued_log_messages(broker):
    return take_all(broker, "attempts")


def test_register_stores_one_row(clean, register):
    sent = attempt()
    assert register(sent) == "registered"
    row = Registration.get()
    assert (row.phone, str(row.request_id), row.ip_address, row.referrer) == (
        PHONE,
        sent["request_id"],
        "203.0.113.5",
        "campaign",
    )


def test_same_phone_again_is_a_duplicate_not_an_error(clean, register):
    assert register(attempt()) == "registered"
    assert register(attempt()) == "duplicate"
    assert Registration.select().count() == 1


def test_same_message_twice_changes_nothing(clean, register):
    sent = attempt()
    assert register(sent) == "registered"
    assert register(sent) == "registered"
    assert Registration.select().count() == 1


def test_one_batch_tells_new_duplicate_and_replayed_rows_apart(clean, register):
    earlier = signup(phone="09120000001")
    assert register(earlier.as_message()) == "registered"
    stored_at = Registration.get().created_at.isoformat(timespec="milliseconds")
    new, twin_a, twin_b = (signup(phone=p) for p in ("09120000002", "09120000003", "09120000003"))
    taken = signup(phone="09120000001")
    outcomes = insert_batch([taken, new, earlier, twin_a, twin_b, new], TOMBSTONES)
    assert outcomes[0] == ("duplicate", None)  # the phone belongs to another request
    assert outcomes[1][0] == outcomes[5][0] == "registered"  # the same message twice
    assert outcomes[1][1] == outcomes[5][1]
    assert outcomes[2] == ("registered", stored_at)  # a redelivery: the row it made
    # Two requests for one phone in one batch: exactly one gets it.
    assert sorted(outcome[0] for outcome in outcomes[3:5]) == ["duplicate", "registered"]
    assert Registration.select().count() == 3


def test_threads_registering_at_once_store_each_phone_once(clean, register):
    phones = [f"0912{n:07d}" for n in range(60)]
    attempts = [attempt(phone) for phone in phones + phones[:20]]

    def register_and_let_go(sent):
        try:
            return register(sent)
        finally:
            db.close()  # the worker's middleware does this after each message

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(register_and_let_go, attempts))
    assert outcomes.count("registered") == 60 and outcomes.count("duplicate") == 20
    assert Registration.select().count() == 60


def test_register_forwards_the_outcome_to_the_attempt_log(clean, register, broker):
    sent = attempt()
    register(sent)
    [message] = queued_log_messages(broker)
    logged, statuses = message.args
    assert logged == sent
    assert [entry["status"] for entry in statuses] == [QUEUED, SUCCESS_POSTGRES]


def test_database_rejection_propagates_without_the_phone(clean, register, broker):
    # The CHECK constraint in schema.sql refuses a number the web would never send.
    with pytest.raises(StoreFailed) as caught:
        register(attempt(phone="12345678901"))
    assert "12345678901" not in str(caught.value)
    assert "registrations_phone_format" in str(caught.value)
    [message] = queued_log_messages(broker)
    assert message.args[1][0]["status"] == "FAILED_RETRY"
    assert message.args[1][0]["error"] == "IntegrityError"


def test_log_attempt_upserts_one_document_per_request(clean, mongo):
    sent = attempt()
    history = [status(QUEUED, at=sent["received_at"]), status(SUCCESS_POSTGRES)]
    log_attempt(sent, history)
    log_attempt(sent, history)  # a redelivery
    log_attempt(sent, [status("DUPLICATE_DETECTED")])
    [document] = mongo.find({"request_id": sent["request_id"]})
    assert document["phone"] == PHONE
    assert document["ip"] == "203.0.113.5"
    assert document["user_agent"] == "pytest"
    assert [entry["status"] for entry in document["history"]] == [
        QUEUED,
        SUCCESS_POSTGRES,
        "DUPLICATE_DETECTED",
    ]


def test_attempt_log_has_its_indexes(clean, mongo):
    log_attempt(attempt(), [status(QUEUED)])
    keys = {
        next(iter(index["key"].keys())): index.get("unique", False)
        for index in mongo.list_indexes()
    }
    assert keys["request_id"] is True
    assert "phone" in keys and "received_at" in keys
