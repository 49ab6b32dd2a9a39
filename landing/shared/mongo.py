"""MongoDB, where the attempt history lives: one client per process, made on first use.

pymongo clients are not fork-safe, so none is made at import time (gunicorn and dramatiq
fork); the process that will use MongoDB names it with init_mongo, as peewee's handle is
initialised with init_database.
"""

import os
from contextlib import suppress

from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import OperationFailure

ATTEMPTS = "landing_attempts"
ERASURES = "landing_erasures"  # the attempt log's copy of erased numbers' tombstones
RECEIVED_AT_INDEX = "received_at_1"
DEFAULT_DATABASE = "logs"  # when MONGO_URL names none


class MongoHandle:
    """A MongoClient for a URL, made on first use in each process (and again after a fork)."""

    def __init__(self) -> None:
        self.url: str | None = None
        self.timeout_ms = 2000
        self.retention_days = 90
        self._client: MongoClient | None = None
        self._pid: int | None = None

    def initialize(self, url: str, timeout_ms: int, retention_days: int) -> None:
        """Point the handle at url; short timeouts so an outage fails fast and retries."""
        if (url, timeout_ms) != (self.url, self.timeout_ms):
            self.close()
        self.url, self.timeout_ms, self.retention_days = url, timeout_ms, retention_days

    def client(self) -> MongoClient:
        """This process's client, its indexes ensured when it is made."""
        if self.url is None:
            raise RuntimeError("init_mongo() was not called in this process")
        if self._client is None or self._pid != os.getpid():
            self._client = connect(self.url, self.timeout_ms)
            self._pid = os.getpid()
            try:
                ensure_indexes(self.attempts(), self.retention_days)
            except Exception:
                self.close()  # MongoDB is down: the next message tries (and indexes) again
                raise
        return self._client

    def attempts(self) -> Collection:
        """The landing_attempts collection."""
        return self.client().get_default_database(DEFAULT_DATABASE)[ATTEMPTS]

    def erasures(self) -> Collection:
        """The landing_erasures collection (landing.shared.tombstones)."""
        return self.client().get_default_database(DEFAULT_DATABASE)[ERASURES]

    def close(self) -> None:
        if self._client is not None and self._pid == os.getpid():
            self._client.close()
        self._client = None


mongo = MongoHandle()


def init_mongo(url: str, timeout_ms: int, retention_days: int) -> None:
    """Point this process's handle at url (workers, when they boot)."""
    mongo.initialize(url, timeout_ms, retention_days)


def attempts() -> Collection:
    """The attempt history's collection, through this process's client."""
    return mongo.attempts()


def erasures() -> Collection:
    """The attempt log's tombstones, through this process's client."""
    return mongo.erasures()


def connect(url: str, timeout_ms: int) -> MongoClient:
    """A client that gives up after timeout_ms at every step; it connects on first use."""
    return MongoClient(
        url,
        serverSelectionTimeoutMS=timeout_ms,
        connectTimeoutMS=timeout_ms,
        socketTimeoutMS=timeout_ms,
        connect=False,
    )


def ensure_indexes(collection: Collection, retention_days: int) -> None:
    """The indexes the attempt history needs; creating an existing index is a no-op.

    received_at's is a TTL index: MongoDB deletes an attempt retention_days after it was
    received. An index made with another lifetime (or none, before) is made again.
    """
    collection.create_index([("request_id", ASCENDING)], unique=True)
    collection.create_index([("phone", ASCENDING)])
    lifetime = retention_days * 86_400
    existing = collection.index_information().get(RECEIVED_AT_INDEX)
    if existing is not None and existing.get("expireAfterSeconds") != lifetime:
        with suppress(OperationFailure):  # another process dropped it first
            collection.drop_index(RECEIVED_AT_INDEX)
    collection.create_index(
        [("received_at", ASCENDING)], name=RECEIVED_AT_INDEX, expireAfterSeconds=lifetime
    )
