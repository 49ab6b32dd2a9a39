"""MongoDB, where every sign-up attempt is logged: one client per process, made on first use.

pymongo clients are not fork-safe, so none is made at import time (gunicorn and dramatiq fork).
"""

import os

from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection

from actors.settings import settings

ATTEMPTS = "landing_attempts"

_client: MongoClient | None = None
_pid: int | None = None


def client() -> MongoClient:
    """This process's MongoClient; short timeouts so an outage fails fast and retries."""
    global _client, _pid
    if _client is None or _pid != os.getpid():
        timeout = settings.mongo_timeout_ms
        _client = MongoClient(
            settings.mongo_url,
            serverSelectionTimeoutMS=timeout,
            connectTimeoutMS=timeout,
            socketTimeoutMS=timeout,
        )
        _pid = os.getpid()
        try:
            ensure_indexes(_client.get_default_database("logs")[ATTEMPTS])
        except Exception:
            _client.close()
            _client = None  # MongoDB is down: the next message tries (and indexes) again
            raise
    return _client


def attempts() -> Collection:
    """The landing_attempts collection."""
    return client().get_default_database("logs")[ATTEMPTS]


def ensure_indexes(collection: Collection) -> None:
    """The indexes the attempt log needs; creating an existing index is a no-op."""
    collection.create_index([("request_id", ASCENDING)], unique=True)
    collection.create_index([("phone", ASCENDING)])
    collection.create_index([("received_at", ASCENDING)])
