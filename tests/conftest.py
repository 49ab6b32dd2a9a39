"""Fixtures on the real local services: PostgreSQL, Redis, RabbitMQ, and MongoDB's stand-in.

Every fixture here takes its values from tests.support.config (the tests' own database,
vhost, Redis db and MongoDB) and closes what it opens. The fast tier (tests marked fast, run
alone by `make unit`) starts no process: its apps have no service behind them, and only
admission's script and a batch's split talk to the tests' Redis db and PostgreSQL database.
"""

import threading
import uuid

import pika
import psycopg2
import pytest
import redis
from pymongo import MongoClient

from harness.local import free_port
from harness.queues import ensure_vhost, rabbitmqctl
from tests.support.config import REAL_MONGO, VHOST
from tests.support.config import settings as test_settings
from tests.support.services import MongoStandIn
from tests.support.workers import in_process_worker

# Headless Chromium under Playwright: chromium, new_context, page, console.
pytest_plugins = ("tests.support.browser",)


def pytest_ignore_collect(collection_path, config):
    """`make unit` (-m fast) imports only the modules that mark tests fast: importing the
    others (browsers, the fuzzer, hypothesis' strategies) would cost the fast tier seconds."""
    if config.getoption("markexpr") != "fast" or collection_path.suffix != ".py":
        return None
    if not collection_path.name.startswith("test_"):
        return None
    return "pytest.mark.fast" not in collection_path.read_text(encoding="utf-8") or None


@pytest.fixture(scope="session")
def settings():
    """The Settings every app, dashboard and worker in the tests is built from."""
    return test_settings


@pytest.fixture(scope="session")
def mongo_server(settings):
    """A MongoDB for the whole session: MONGO_URL's, or a stand-in we start and stop."""
    server = MongoStandIn(settings.mongo_url)
    if not REAL_MONGO:
        server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def database(settings):
    """The test database, created if needed and loaded from schema.sql once, as `migrate`
    does it: owned by MIGRATE_DATABASE_URL's user, the app's role granted read and insert."""
    from landing.ops.database_roles import grant_app_role
    from landing.shared.db import apply_schema, create_database_if_missing, db, init_database

    create_database_if_missing(settings.migrate_database_url)
    apply_schema(settings.migrate_database_url)
    grant_app_role(settings.migrate_database_url, settings.database_url)
    init_database(settings.database_url, settings.db_max_connections)
    return db


@pytest.fixture
def owner(settings, database):
    """A connection as the schema's owner, for what the app's role may not do (truncate,
    alter); closed after the test."""
    conn = psycopg2.connect(settings.migrate_database_url)
    conn.autocommit = True
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def workers(settings):
    """The workers' broker and actors, on the tests' own vhost, its queues migrated as a
    deploy would (a vhost an older version used may still hold dead letters with a TTL)."""
    from actors.broker import build_workers
    from landing.ops.queue_migration import migrate_queues
    from landing.shared.signup import QUEUES

    ensure_vhost(settings.rabbitmq_url)
    migrate_queues([pika.URLParameters(settings.rabbitmq_url)], QUEUES, "classic")
    built = build_workers(settings)
    yield built
    built.forwarder.close()
    built.broker.close()


@pytest.fixture(scope="session")
def broker(workers):
    """The workers' RabbitmqBroker."""
    return workers.broker


@pytest.fixture
def scratch_vhost(settings):
    """The URL of a RabbitMQ vhost nobody has declared anything in, deleted afterwards."""
    name = f"{VHOST}_scratch_{uuid.uuid4().hex[:8]}"
    rabbitmqctl("add_vhost", name)
    try:
        rabbitmqctl("set_permissions", "-p", name, "guest", ".*", ".*", ".*")
        url = settings.rabbitmq_url.rsplit("/", 1)[0] + f"/{name}"
        ensure_vhost(url)
        yield url
    finally:
        rabbitmqctl("delete_vhost", name)


@pytest.fixture
def mongo(mongo_server, workers):
    """The attempts collection, emptied before each test."""
    from landing.shared.mongo import ATTEMPTS, ensure_indexes

    client = MongoClient(mongo_server.url, serverSelectionTimeoutMS=5000)
    collection = client.get_default_database()[ATTEMPTS]
    collection.delete_many({})
    ensure_indexes(collection, test_settings.log_retention_days)
    yield collection
    client.close()


@pytest.fixture
def clean(settings, owner, broker, mongo):
    """Every store empty: registrations, Redis db 15, the queues, the attempt history."""
    with owner.cursor() as cursor:
        cursor.execute("TRUNCATE registrations, signup_counts, verifications RESTART IDENTITY")
    with redis.Redis.from_url(settings.redis_url) as client:
        client.flushdb()
    broker.flush_all()
    yield


def in_fast_tier(request: pytest.FixtureRequest) -> bool:
    """Whether the test's app has no service behind it: the fast tier (marked fast: `make
    unit`, where no process is started), or a test marked offline (the same app, outside
    the tier for what it imports)."""
    return any(request.node.get_closest_marker(name) for name in ("fast", "offline"))


def nowhere(settings):
    """settings with every service on a port nothing listens on: whatever an app tries to
    reach fails at once, and nothing it does can matter."""
    return settings.replace(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
        rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        mongo_url=f"mongodb://127.0.0.1:{free_port()}/nowhere",
        publish_timeout=0.5,
    )


@pytest.fixture
def make_app(request, settings):
    """create_app with some settings changed (in the fast tier, with no service behind it);
    every app made is closed after the test."""
    from landing.app import close_app, create_app

    base = nowhere(settings) if in_fast_tier(request) else settings
    made = []

    def make(**changes):
        made.append(create_app(base.replace(**changes)))
        return made[-1]

    yield make
    for app in made:
        close_app(app)


@pytest.fixture
def app(request, make_app):
    """The public app: on empty stores, or in the fast tier on none."""
    if not in_fast_tier(request):
        request.getfixturevalue("clean")
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def worker(broker, clean):
    """A real Dramatiq worker on both queues, stopped after the test."""
    with in_process_worker(broker) as running:
        yield running


@pytest.fixture(scope="module")
def receiver():
    """A webhook receiver on 127.0.0.1 (tests.support.webhooks), shut down afterwards."""
    from tests.support.webhooks import Receiver

    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def sms_gateway():
    """The local SMS gateway on 127.0.0.1 (tests.support.sms), shut down afterwards."""
    from tests.support.sms import RunningGateway

    gateway = RunningGateway(twilio_token="test-twilio-token")
    yield gateway
    gateway.stop()


@pytest.fixture(scope="module")
def sms_workers(settings, workers, sms_gateway, receiver):
    """Workers with VERIFICATION=sms (tests.support.sms.sms_settings), on the session's vhost
    (whose queues `workers` made)."""
    from actors.broker import build_workers
    from tests.support.sms import sms_settings

    built = build_workers(sms_settings(settings, sms_gateway, receiver))
    yield built
    built.forwarder.close()
    built.broker.close()


@pytest.fixture
def sms_worker(sms_workers, sms_gateway, receiver, clean):
    """A real worker with VERIFICATION=sms, the gateway's and the receiver's records empty."""
    sms_gateway.reset()
    receiver.reset()
    with in_process_worker(sms_workers.broker, worker_threads=4) as running:
        yield running
