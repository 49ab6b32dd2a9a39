"""The benchmark's own stores on the local services: prepare, empty, count."""

import time
from collections.abc import Callable

import pika
import psycopg2
import redis
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from bench.config import Stores
from tests.support.services import ensure_vhost

QUEUES = ("registrations", "attempts")
ATTEMPTS_COLLECTION = "landing_attempts"


def prepare(stores: Stores) -> None:
    """Create the database (schema.sql applied) and the vhost when they are missing."""
    from landing.shared.db import apply_schema, create_database_if_missing, init_database

    create_database_if_missing(stores.database_url)
    init_database(stores.database_url, 2)
    apply_schema(stores.database_url)
    ensure_vhost(stores.rabbitmq_url)


# The services may be shared with other runs, whose fault tests stop and start
# them: an outage of up to OUTAGE_SECONDS is waited out, not a reason to lose a run.
OUTAGE_SECONDS = 90
OUTAGES = (
    pika.exceptions.AMQPConnectionError,
    psycopg2.OperationalError,
    psycopg2.InterfaceError,
    redis.ConnectionError,
    redis.TimeoutError,
    PyMongoError,
)


def outlasting_outages[T](action: Callable[[], T]) -> T:
    """action(), tried again every second while a service it needs is down."""
    deadline = time.monotonic() + OUTAGE_SECONDS
    while True:
        try:
            return action()
        except OUTAGES:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def _connect(url: str) -> pika.BlockingConnection:
    return outlasting_outages(lambda: pika.BlockingConnection(pika.URLParameters(url)))


def _queue_names() -> list[str]:
    return [name + suffix for name in QUEUES for suffix in ("", ".DQ", ".XQ")]


def purge_queues(url: str) -> None:
    """Empty every queue of ours that exists (a missing one closes the channel: reopen)."""
    connection = _connect(url)
    try:
        channel = connection.channel()
        for name in _queue_names():
            try:
                channel.queue_purge(name)
            except pika.exceptions.ChannelClosedByBroker:
                channel = connection.channel()
    finally:
        connection.close()


def queue_state(url: str, name: str) -> tuple[int, int]:
    """(ready messages, consumers) of a queue; (0, 0) when it does not exist yet."""
    connection = _connect(url)
    try:
        method = connection.channel().queue_declare(name, passive=True).method
        return method.message_count, method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0, 0
    finally:
        connection.close()


def reset(stores: Stores) -> None:
    """Between scenarios: empty queues, registrations, Redis db and the attempt log."""
    outlasting_outages(lambda: _reset(stores))


def _reset(stores: Stores) -> None:
    purge_queues(stores.rabbitmq_url)
    with psycopg2.connect(stores.database_url) as connection, connection.cursor() as cursor:
        cursor.execute("TRUNCATE registrations RESTART IDENTITY")
    connection.close()
    redis.Redis.from_url(stores.redis_url).flushdb()
    # Dropped, not emptied: the stand-in slows down as a collection grows, and workers
    # recreate the indexes when they start.
    with MongoClient(stores.mongo_url, serverSelectionTimeoutMS=5000) as client:
        client.get_default_database()[ATTEMPTS_COLLECTION].drop()


class RowCounter:
    """`SELECT count(*) FROM registrations` on one connection, polled several times a second
    (reconnecting after a PostgreSQL restart)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.connection = None

    def __call__(self) -> int:
        return outlasting_outages(self._count)

    def _count(self) -> int:
        if self.connection is None or self.connection.closed:
            self.connection = psycopg2.connect(self.url)
            self.connection.autocommit = True
        try:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM registrations")
                return cursor.fetchone()[0]
        except psycopg2.Error:
            self.close()
            raise

    def close(self) -> None:
        """Close the connection (the next count opens a new one)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def mongo_count(url: str) -> int | None:
    """Documents in the attempt log; None when MongoDB does not answer in time."""
    try:
        with MongoClient(url, serverSelectionTimeoutMS=5000, socketTimeoutMS=60_000) as client:
            return client.get_default_database()[ATTEMPTS_COLLECTION].count_documents({})
    except Exception:
        return None


# Preloaded sign-ups: '0990' and 7 digits is wrk's numbering ('09' and 9 digits) from
# 990,000,000 on, which no run reaches, so a filler never collides with what wrk sends.
PRELOAD = """
INSERT INTO registrations (phone, referrer, request_id, ip_address, user_agent, created_at)
SELECT phone, 'bench-preload', md5(phone)::uuid, '127.0.0.1', 'bench preload', now()
FROM (
    SELECT '09' || lpad(n::text, 9, '0') FROM generate_series(%(start)s, %(stop)s, %(step)s) n
    UNION ALL
    SELECT '0990' || lpad(n::text, 7, '0') FROM generate_series(1, %(fillers)s) n
) AS preloaded (phone)
"""


def preload(url: str, rows: int, duplicates: range = range(0)) -> None:
    """rows sign-ups already stored, in one statement: wrk's numbers in duplicates (the next
    run sends them again), the rest fillers. ANALYZEd, as a table that grew would be."""
    fillers = rows - len(duplicates)
    if fillers < 0:
        raise ValueError("more duplicates than rows")
    span = dict(start=duplicates.start, stop=duplicates.stop - 1, step=duplicates.step or 1)
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(PRELOAD, {**span, "fillers": fillers})
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registrations")
    connection.close()
