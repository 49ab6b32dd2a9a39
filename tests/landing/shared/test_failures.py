"""Failure's vocabulary without a service: each library's errors, and ours, come out as
transient, permanent or unknown, and the one retry policy decides from that alone."""

import http.client
import socket
import ssl

import bson
import dramatiq.errors
import peewee
import psycopg2
import psycopg2.errors
import pytest
import redis.exceptions
from bson.errors import InvalidBSON, InvalidDocument, InvalidStringData
from playhouse.pool import MaxConnectionsExceeded
from pymongo.errors import (
    AutoReconnect,
    BulkWriteError,
    ConnectionFailure,
    DocumentTooLarge,
    DuplicateKeyError,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
    WriteError,
)

from actors.deadline_post import DeadlinePassed
from actors.registrations import StoreFailed, StoreOutage, StoreRefused
from actors.retries import RetryPolicy
from actors.webhooks import DeliveryFailed, Undeliverable
from landing.shared.failures import Kind, Permanent, Transient, classify
from landing.shared.group_commit import FlushInterrupted
from landing.shared.publisher import PublishFailed

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


TRANSIENT, PERMANENT, UNKNOWN = Kind.TRANSIENT, Kind.PERMANENT, Kind.UNKNOWN


def through_peewee(error: psycopg2.Error) -> Exception:
    """error as peewee's wrapper hands it on, the way the actors see PostgreSQL's errors."""
    with pytest.raises(peewee.PeeweeException) as caught, peewee.__exception_wrapper__:
        raise error
    return caught.value


def raised(call) -> Exception:
    with pytest.raises(Exception) as caught:
        call()
    return caught.value


POSTGRESQL = [
    (peewee.OperationalError(), TRANSIENT),
    (peewee.InterfaceError(), TRANSIENT),
    (through_peewee(psycopg2.errors.DeadlockDetected()), TRANSIENT),  # 40P01
    (through_peewee(psycopg2.errors.SerializationFailure()), TRANSIENT),  # 40001
    (through_peewee(psycopg2.errors.AdminShutdown()), TRANSIENT),  # 57P01
    (psycopg2.OperationalError("server closed the connection unexpectedly"), TRANSIENT),
    (psycopg2.InterfaceError("connection already closed"), TRANSIENT),
    (MaxConnectionsExceeded("every pooled connection is busy"), TRANSIENT),  # a ValueError
    (peewee.DataError(), PERMANENT),
    (peewee.IntegrityError(), PERMANENT),
    (through_peewee(psycopg2.errors.StringDataRightTruncation()), PERMANENT),  # 22001
    (through_peewee(psycopg2.errors.InvalidTextRepresentation()), PERMANENT),  # 22P02
    (through_peewee(psycopg2.errors.CheckViolation()), PERMANENT),  # 23514
    (through_peewee(psycopg2.errors.UniqueViolation()), PERMANENT),  # 23505
    (psycopg2.DataError(), PERMANENT),
    (psycopg2.IntegrityError(), PERMANENT),
    (ValueError("A string literal cannot contain NUL (0x00) characters."), PERMANENT),
    (peewee.ProgrammingError(), UNKNOWN),  # our SQL, not the data
    (through_peewee(psycopg2.errors.UndefinedTable()), UNKNOWN),
    (through_peewee(psycopg2.errors.InsufficientPrivilege()), UNKNOWN),
    (peewee.InternalError(), UNKNOWN),
]

MONGODB = [
    (ConnectionFailure(), TRANSIENT),
    (AutoReconnect(), TRANSIENT),
    (NetworkTimeout(), TRANSIENT),
    (ServerSelectionTimeoutError(), TRANSIENT),
    (WaitQueueTimeoutError(), TRANSIENT),
    (InvalidDocument("key must not contain NUL"), PERMANENT),
    (InvalidStringData("not valid UTF-8"), PERMANENT),
    (InvalidBSON(), PERMANENT),
    (DocumentTooLarge("over 16 MiB"), PERMANENT),
    (raised(lambda: bson.encode({"a\x00b": 1})), PERMANENT),
    (raised(lambda: bson.encode({"n": 2**64})), PERMANENT),
    (raised(lambda: bson.encode({"s": "\ud800"})), PERMANENT),
    (DuplicateKeyError("E11000"), UNKNOWN),  # two upserts of one request_id raced
    (OperationFailure("not primary"), UNKNOWN),
    (WriteError("write failed"), UNKNOWN),
    (BulkWriteError({"writeErrors": []}), UNKNOWN),
]

BROKERS_AND_CACHES = [
    (dramatiq.errors.ConnectionClosed(OSError()), TRANSIENT),
    (dramatiq.errors.ConnectionFailed(OSError()), TRANSIENT),
    (redis.exceptions.ConnectionError(), TRANSIENT),
    (redis.exceptions.TimeoutError(), TRANSIENT),
    (redis.exceptions.BusyLoadingError(), TRANSIENT),
    (redis.exceptions.ResponseError("WRONGTYPE"), UNKNOWN),
    (dramatiq.errors.DecodeError("not JSON", b"", None), UNKNOWN),
]

HTTP_DELIVERY = [
    (ConnectionRefusedError(), TRANSIENT),
    (ConnectionResetError(), TRANSIENT),
    (BrokenPipeError(), TRANSIENT),
    (TimeoutError(), TRANSIENT),
    (DeadlinePassed(), TRANSIENT),
    (socket.gaierror(socket.EAI_NONAME, "no such host"), TRANSIENT),
    (http.client.RemoteDisconnected(), TRANSIENT),
    (http.client.BadStatusLine("garbage"), TRANSIENT),
    (http.client.IncompleteRead(b""), TRANSIENT),
    (ssl.SSLCertVerificationError(), UNKNOWN),  # a ValueError too; the receiver's to fix
    (ssl.SSLError(), UNKNOWN),
    (OSError(), UNKNOWN),
]

OURS = [
    (Transient("an outage"), TRANSIENT),
    (Permanent("bad data"), PERMANENT),
    (PublishFailed("no confirm"), TRANSIENT),
    (FlushInterrupted(), TRANSIENT),
    (StoreOutage("OperationalError"), TRANSIENT),
    (StoreRefused("IntegrityError"), PERMANENT),
    (StoreFailed("RuntimeError"), UNKNOWN),
    (DeliveryFailed("status 500"), TRANSIENT),
    (Undeliverable("WEBHOOK_URL is not set"), PERMANENT),
]

MESSAGES = [
    (KeyError("phone"), PERMANENT),
    (TypeError(), PERMANENT),
    (AttributeError(), PERMANENT),
    (ValueError("badly formed hexadecimal UUID string"), PERMANENT),
    (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), PERMANENT),
    (OverflowError(), PERMANENT),
    (RuntimeError(), UNKNOWN),
    (ZeroDivisionError(), UNKNOWN),
    (Exception(), UNKNOWN),
]

FAMILIES = {
    "postgresql": POSTGRESQL,
    "mongodb": MONGODB,
    "broker-cache": BROKERS_AND_CACHES,
    "http": HTTP_DELIVERY,
    "ours": OURS,
    "messages": MESSAGES,
}
CASES = [
    pytest.param(error, kind, id=f"{family}-{type(error).__name__}-{n}")
    for family, cases in FAMILIES.items()
    for n, (error, kind) in enumerate(cases)
]


@pytest.mark.parametrize(("error", "kind"), CASES)
def test_each_error_has_its_kind(error, kind):
    assert classify(error) is kind


@pytest.mark.parametrize(
    ("error", "made"),
    [
        (peewee.OperationalError(), StoreOutage),
        (through_peewee(psycopg2.errors.CheckViolation()), StoreRefused),
        (RuntimeError(), StoreFailed),
    ],
)
def test_a_store_failure_keeps_its_cause_kind_and_names_no_value(error, made):
    failed = StoreFailed.from_error(error)
    assert type(failed) is made
    assert classify(failed) is classify(error)
    assert str(failed).startswith(type(error).__name__)


OUTLASTING = RetryPolicy(5, outages_until_over=True)  # registrations: a 202 is a promise
BOUNDED = RetryPolicy(5)  # the attempt log, webhooks, exports


@pytest.mark.parametrize(
    ("policy", "error", "retries", "retried"),
    [
        (OUTLASTING, Transient(), 0, True),
        (OUTLASTING, Transient(), 5, True),
        (OUTLASTING, Transient(), 10_000, True),
        (OUTLASTING, RuntimeError(), 4, True),
        (OUTLASTING, RuntimeError(), 5, False),
        (OUTLASTING, Permanent(), 0, False),
        (BOUNDED, Transient(), 4, True),
        (BOUNDED, Transient(), 5, False),
        (BOUNDED, RuntimeError(), 4, True),
        (BOUNDED, RuntimeError(), 5, False),
        (BOUNDED, Permanent(), 0, False),
        (RetryPolicy(0), Transient(), 0, False),
        (RetryPolicy(0, outages_until_over=True), Transient(), 0, True),
    ],
)
def test_the_retry_policy_decides_by_kind_and_count(policy, error, retries, retried):
    assert policy(retries, error) is retried


BAD_DATA = [error for cases in FAMILIES.values() for error, kind in cases if kind is PERMANENT]


def test_bad_data_is_never_retried_whatever_the_policy():
    for policy in (OUTLASTING, BOUNDED, RetryPolicy(10_000, outages_until_over=True)):
        assert not any(policy(0, error) for error in BAD_DATA)


def test_policies_with_the_same_parameters_are_equal():
    # Declared actors are checked against the policy they should have by equality.
    assert RetryPolicy(3, outages_until_over=True) == RetryPolicy(3, True)
    assert RetryPolicy(3) != RetryPolicy(3, outages_until_over=True)
