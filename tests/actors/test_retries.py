"""Outage or bad data: which failures the actors retry, on the real PostgreSQL and MongoDB.

An outage is retried (a registration until it ends, a log entry LOG_MAX_RETRIES times); data
PostgreSQL or BSON refuses is never retried: its message goes straight to the dead letters.
"""

import pytest
from bson.errors import InvalidDocument, InvalidStringData
from peewee import DataError, IntegrityError, InterfaceError, OperationalError, ProgrammingError
from peewee import __exception_wrapper__ as peewee_errors
from playhouse.pool import MaxConnectionsExceeded
from pymongo import MongoClient
from pymongo.errors import (
    AutoReconnect,
    ConnectionFailure,
    DuplicateKeyError,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)

from actors import exports, verifications
from actors.attempts import log_attempt
from actors.registrations import StoreFailed, StoreOutage, StoreRefused
from actors.retries import RetryPolicy
from actors.rows import write
from actors.webhooks import RETRIES
from landing.shared.db import Registration, db
from landing.shared.failures import Kind, classify
from landing.shared.group_commit import FlushInterrupted
from landing.shared.publisher import PublishFailed
from landing.shared.signup import (
    DELIVER_WEBHOOK,
    EXPORT_REGISTRATIONS,
    LOG_ATTEMPT,
    LOG_ATTEMPTS,
    LOG_TURNED_AWAY,
    RECORD_VERIFICATION,
    REGISTER,
    REGISTER_BATCH,
    SEND_CODE,
    History,
)
from landing.shared.signup import history_entry as status
from landing.shared.tombstones import Tombstones
from tests.support.config import settings
from tests.support.config import settings as test_settings
from tests.support.signups import PHONE, attempt, signup

TOMBSTONES = Tombstones(test_settings.erasure_secret)

QUEUED = History.QUEUED
# The retry policies as the workers are given them, with the tests' settings.
register_retried = RetryPolicy(settings.max_retries, outages_until_over=True)
log_retried = RetryPolicy(settings.log_max_retries)
DECLARED = {
    REGISTER: register_retried,
    REGISTER_BATCH: register_retried,
    LOG_ATTEMPT: log_retried,
    LOG_ATTEMPTS: log_retried,
    LOG_TURNED_AWAY: log_retried,
    DELIVER_WEBHOOK: RetryPolicy(RETRIES),
    EXPORT_REGISTRATIONS: RetryPolicy(exports.MAX_RETRIES),
    SEND_CODE: RetryPolicy(verifications.RETRIES),
    RECORD_VERIFICATION: register_retried,  # a verification answered 200 is a promise
}


def test_every_actor_is_declared_with_the_one_retry_policy(broker):
    assert set(broker.get_declared_actors()) == set(DECLARED)
    for name, policy in DECLARED.items():
        assert broker.get_actor(name).options["retry_when"] == policy, name


@pytest.fixture
def register(workers):
    """The register actor, called in this thread as a worker thread would call it."""
    return workers.register


SURROGATE_ERROR = UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed")


@pytest.mark.parametrize(
    "error",
    [
        OperationalError(),
        InterfaceError(),
        MaxConnectionsExceeded(),  # a ValueError, yet an outage: every pooled connection busy
        PublishFailed(),
        FlushInterrupted(),
        StoreOutage("OperationalError"),
    ],
)
def test_outages_are_retried_however_often_they_failed(error):
    assert register_retried(1000, error)


@pytest.mark.parametrize(
    "error",
    [
        DataError(),
        IntegrityError(),
        SURROGATE_ERROR,
        ValueError("A string literal cannot contain NUL (0x00) characters."),
        KeyError("ip"),
        TypeError(),
        StoreRefused("DataError"),
    ],
)
def test_bad_data_is_never_retried(error):
    assert not register_retried(0, error)


@pytest.mark.parametrize("error", [RuntimeError(), ProgrammingError(), StoreFailed("?")])
def test_unknown_errors_are_retried_max_retries_times(error):
    assert register_retried(settings.max_retries - 1, error)
    assert not register_retried(settings.max_retries, error)


@pytest.mark.parametrize(
    "error",
    [
        InvalidDocument("key must not contain NUL"),
        InvalidStringData("not valid UTF-8"),
        SURROGATE_ERROR,
        OverflowError(),
        KeyError("received_at"),
        TypeError(),
        ValueError(),
        AttributeError(),
    ],
)
def test_an_unstorable_log_entry_is_never_retried(error):
    assert not log_retried(0, error)


@pytest.mark.parametrize(
    "error",
    [
        ConnectionFailure(),
        ServerSelectionTimeoutError(),
        AutoReconnect(),
        NetworkTimeout(),
        DuplicateKeyError("E11000"),  # two upserts of one request_id raced: the next one wins
        RuntimeError(),
    ],
)
def test_a_mongodb_outage_is_retried_log_max_retries_times(error):
    assert log_retried(settings.log_max_retries - 1, error)
    assert not log_retried(settings.log_max_retries, error)


def test_an_unreachable_mongodb_is_an_outage():
    client = MongoClient("mongodb://127.0.0.1:1", serverSelectionTimeoutMS=100)
    with pytest.raises(ConnectionFailure) as caught:
        client.admin.command("ping")
    client.close()
    assert log_retried(0, caught.value)


@pytest.mark.parametrize(
    ("sqlstate", "retried"),
    [("40P01", True), ("22001", False), ("22P02", False), ("23514", False)],
    ids=["deadlock", "too-long", "not-an-address", "check-violation"],
)
def test_postgres_errors_come_out_as_outage_or_bad_data(database, sqlstate, retried):
    # The real error classes, as peewee's wrapper hands them to the actor.
    raise_it = f"DO $$ BEGIN RAISE EXCEPTION 'refused' USING ERRCODE = '{sqlstate}'; END $$"
    with db.connection_context(), pytest.raises(Exception) as caught, peewee_errors:
        db.cursor().execute(raise_it)
    assert register_retried(0, caught.value) is retried
    assert register_retried(1000, caught.value) is retried


@pytest.mark.parametrize(
    "changes",
    [
        {"ip": "not-an-ip"},
        {"ip": "fe80::1%eth0"},
        {"referrer": "x" * 3000},
        {"user_agent": "x" * 513},
        {"referrer": "ad\x00campaign"},
        {"referrer": "camp\udc00aign"},
        {"request_id": "not-a-uuid"},
        {"request_id": 42},
        {"phone": None},
    ],
    ids=[
        "not-an-ip",
        "zoned-ip",
        "long-referrer",
        "long-user-agent",
        "nul",
        "surrogate",
        "junk-request-id",
        "int-request-id",
        "no-phone",
    ],
)
def test_data_postgres_refuses_fails_for_good_without_its_values(clean, register, changes):
    sent = {**attempt(), **changes}
    with pytest.raises(StoreFailed) as caught:
        register(sent)
    assert classify(caught.value) is Kind.PERMANENT
    assert not register_retried(0, caught.value)
    assert PHONE not in str(caught.value) and "campaign" not in str(caught.value)
    assert Registration.select().count() == 0


@pytest.mark.parametrize("sent", ["junk", None, [1, 2], {"phone": PHONE}], ids=str)
def test_a_malformed_attempt_fails_for_good(clean, register, sent):
    with pytest.raises(StoreFailed) as caught:
        register(sent)
    assert isinstance(caught.value, StoreRefused)
    assert not register_retried(0, caught.value)


def test_one_unstorable_row_fails_only_itself_in_a_batch(clean):
    good, bad = signup("09120000001"), signup("09120000002", referrer="\udc00")
    outcomes = write([good, bad], TOMBSTONES)
    assert outcomes[0][0] == "registered"
    assert isinstance(outcomes[1], UnicodeEncodeError)


def test_an_attempt_bson_cannot_encode_fails_for_good(clean, mongo):
    with pytest.raises(Exception) as caught:
        log_attempt(attempt(phone="\ud800"), [status(QUEUED)])
    assert not log_retried(0, caught.value)
    assert mongo.count_documents({}) == 0
