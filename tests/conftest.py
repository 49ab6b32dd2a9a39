"""Fixtures on the real local services: PostgreSQL, Redis, RabbitMQ, and MongoDB's stand-in.

Tests never touch a developer's data: they use the `landing_test` database, Redis db 15,
the RabbitMQ vhost `landing_test` and a MongoDB-wire stand-in of their own (or MONGO_URL
when it names a real MongoDB). TEST_NAMESPACE and TEST_REDIS_DB rename the database/vhost
and the Redis db, so two test runs on one machine keep out of each other's way. The
environment is set here, before landing or actors is imported, because the workers read
their settings once, at import.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pika
import pytest
import redis
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parent.parent
VHOST = os.environ.get("TEST_NAMESPACE", "landing_test")
REDIS_DB = os.environ.get("TEST_REDIS_DB", "15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


MONGO_STANDIN = "MONGO_URL" not in os.environ
os.environ.update(
    DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{VHOST}",
    RABBITMQ_URL=f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
    REDIS_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
    MAX_RETRIES="2",
    RETRY_MIN_BACKOFF_MS="100",
    RETRY_MAX_BACKOFF_MS="500",
    MONGO_TIMEOUT_MS="1000",
    # CLI workers started by tests serve their metrics here, not on a developer's 9191.
    WORKER_METRICS_PORT=str(free_port()),
)
if MONGO_STANDIN:
    os.environ["MONGO_URL"] = f"mongodb://127.0.0.1:{free_port()}/logs_test"


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """Poll until predicate returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up after {timeout}s waiting for {predicate.__name__}")


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def ensure_vhost(url: str) -> None:
    """Create the tests' RabbitMQ vhost the first time (rabbitmqctl, as on our machines)."""
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.ProbableAccessDeniedError:
        _rabbitmqctl("add_vhost", VHOST)
        _rabbitmqctl("set_permissions", "-p", VHOST, "guest", ".*", ".*", ".*")


class MongoStandIn:
    """The mongoeco stand-in in a child process, so a test can take MongoDB away and back."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        script = ROOT / "scripts" / "mongo_standin.py"
        self.process = subprocess.Popen([sys.executable, str(script), self.url])
        client = MongoClient(self.url, serverSelectionTimeoutMS=200)
        try:
            wait_for(lambda: self._pings(client), timeout=30)
        finally:
            client.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)

    @staticmethod
    def _pings(client: MongoClient) -> bool:
        try:
            return bool(client.admin.command("ping"))
        except Exception:
            return False


@pytest.fixture(scope="session")
def mongo_server():
    """A MongoDB for the whole session: MONGO_URL's, or a stand-in we start and stop."""
    server = MongoStandIn(os.environ["MONGO_URL"])
    if MONGO_STANDIN:
        server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database():
    """The test database, created if needed and loaded from schema.sql once."""
    from actors.db import apply_schema, create_database_if_missing, db, init_database
    from actors.settings import settings

    create_database_if_missing(settings.database_url)
    init_database(settings.database_url, settings.db_max_connections)
    apply_schema()
    return db


@pytest.fixture(scope="session")
def broker():
    """The workers' RabbitmqBroker, on the tests' own vhost, its queues migrated as a deploy
    would (a vhost an older version used may still hold dead letters with a TTL)."""
    from dramatiq.common import q_name

    from actors import broker
    from actors.queue_migration import migrate_queues
    from actors.settings import settings

    ensure_vhost(settings.rabbitmq_url)
    queues = {q_name(name) for name in broker.get_declared_queues()}
    migrate_queues([pika.URLParameters(settings.rabbitmq_url)], queues, "classic")
    return broker


@pytest.fixture
def scratch_vhost():
    """The URL of a RabbitMQ vhost nobody has declared anything in, deleted afterwards."""
    name = f"{VHOST}_scratch_{uuid.uuid4().hex[:8]}"
    _rabbitmqctl("add_vhost", name)
    try:
        _rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        url = os.environ["RABBITMQ_URL"].rsplit("/", 1)[0] + f"/{name}"
        ensure_vhost(url)
        yield url
    finally:
        _rabbitmqctl("delete_vhost", name)


@pytest.fixture
def mongo(mongo_server):
    """The attempts collection, emptied before each test."""
    from actors.mongo import ATTEMPTS, ensure_indexes

    client = MongoClient(mongo_server.url, serverSelectionTimeoutMS=5000)
    collection = client.get_default_database()[ATTEMPTS]
    collection.delete_many({})
    ensure_indexes(collection)
    yield collection
    client.close()


@pytest.fixture
def clean(database, broker, mongo):
    """Every store empty: registrations, Redis db 15, the queues, the attempt log."""
    from actors.settings import settings

    with database.connection_context():
        database.execute_sql("TRUNCATE registrations RESTART IDENTITY")
    redis.Redis.from_url(settings.redis_url).flushdb()
    broker.flush_all()
    yield


@pytest.fixture
def app(clean):
    from landing import create_app

    app = create_app()
    yield app
    app.extensions["publisher"].close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def worker(broker, clean):
    """A real Dramatiq worker on both queues, stopped after the test."""
    from dramatiq import Worker

    before = list(broker.middleware)
    running = Worker(broker, worker_threads=2, worker_timeout=100)
    running.start()
    yield running
    running.stop()
    # Each Worker adds a middleware of its own to the broker and never takes it out.
    broker.middleware[:] = before
