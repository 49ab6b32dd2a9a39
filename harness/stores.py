"""Where the app under test keeps its data (never a developer's): the four URLs, the
environment its processes get, and preparing and emptying those stores between runs."""

import os
from dataclasses import dataclass

import redis
from pymongo import MongoClient

from harness.local import BIN
from harness.mongo import ATTEMPTS_COLLECTION
from harness.outages import outlasting_outages
from harness.queues import ensure_vhost, purge_queues
from harness.rows import truncate

# wrk names a visitor of its own per request (harness/post.lua), but a load generator without
# that (or a run whose addresses come round again) must never measure the app's per-address
# limit instead of the app: lifted.
RATE_LIMIT = "100000000/minute"
# Every `dramatiq` run forks a metrics server on this port; two at once would collide.
METRICS_PORT_VARIABLE = "WORKER_METRICS_PORT"


@dataclass(frozen=True)
class Stores:
    """The app's four stores; mongo_is_ours: we serve the MongoDB stand-in ourselves."""

    database_url: str
    rabbitmq_url: str
    redis_url: str
    mongo_url: str
    mongo_is_ours: bool = False

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment for gunicorn and dramatiq: our stores, a limit the load can't hit."""
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
        env.update(
            APP_ENV="development",
            DATABASE_URL=self.database_url,
            MIGRATE_DATABASE_URL=self.database_url,
            RABBITMQ_URL=self.rabbitmq_url,
            REDIS_URL=self.redis_url,
            MONGO_URL=self.mongo_url,
            RATE_LIMIT=RATE_LIMIT,
            # Ingest as the benchmark has always measured it; a scenario may turn it on.
            CHALLENGE_MODE="off",
        )
        env.update(extra)
        return env


def prepare(stores: Stores) -> None:
    """Create the database (schema.sql applied) and the vhost when they are missing."""
    from landing.shared.db import apply_schema, create_database_if_missing, init_database

    create_database_if_missing(stores.database_url)
    init_database(stores.database_url, 2)
    apply_schema(stores.database_url)
    ensure_vhost(stores.rabbitmq_url)


def reset(stores: Stores) -> None:
    """Between scenarios: empty queues, registrations, Redis db and the attempt log."""
    outlasting_outages(lambda: _reset(stores))


def _reset(stores: Stores) -> None:
    purge_queues(stores.rabbitmq_url)
    truncate(stores.database_url)
    redis.Redis.from_url(stores.redis_url).flushdb()
    # Dropped, not emptied: the stand-in slows down as a collection grows, and workers
    # recreate the indexes when they start.
    with MongoClient(stores.mongo_url, serverSelectionTimeoutMS=5000) as client:
        client.get_default_database()[ATTEMPTS_COLLECTION].drop()
