"""The private services every drill runs on, and the fresh state each drill starts from.

One temp directory holds PostgreSQL's data, Redis, the MongoDB stand-in (behind its gate)
and the RabbitMQ node drill-a@localhost; the cluster drill adds three nodes of its own and
removes them after it. Each drill gets a fresh vhost, an empty table, an empty Redis, an
empty attempt log and a newly started app, so no drill inherits another's damage.
"""

import contextlib
import shutil
import tempfile
from pathlib import Path

import redis

from drills.drill import Knobs, run_drill
from drills.env import Env, Fault
from drills.report import DrillResult
from harness import cleanup
from harness.clients import Phones
from harness.cluster import Cluster
from harness.local import BIN, run, wait_until
from harness.mongo import MongoLog
from harness.rabbit import RabbitNode
from harness.rows import truncate
from harness.services import PrivatePostgres, PrivateRedis
from harness.stores import Stores
from harness.supervisor import AppStack

DATABASE = "landing_drill"  # in the private PostgreSQL
MONGO_DATABASE = "logs_drill"


class Lab:
    """The private services, and what each drill gets fresh."""

    def __init__(self, log_dir: Path, knobs: Knobs) -> None:
        self.log_dir, self.knobs = log_dir, knobs
        self.root = Path(tempfile.mkdtemp(prefix="drills-"))
        self.root.chmod(0o755)  # the postgres and rabbitmq users work below it
        cleanup.add("remove the drills' temp directory", self._remove_root)
        self.postgres = PrivatePostgres(self.root, DATABASE)
        self.redis = PrivateRedis(self.root)
        cleanup.add("stop private Redis", self.redis.kill)
        self.mongo = MongoLog(log_dir, MONGO_DATABASE)
        cleanup.add("stop the MongoDB stand-in and its gate", self.mongo.stop)
        self.rabbit = RabbitNode("drill-a", self.root)

    def _remove_root(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def describe(self) -> str:
        """The settings line quoted under the table."""
        k = self.knobs
        return (
            f"{k.clients} clients, ~{k.rate:.0f} new sign-ups/s (mongo-down and "
            f"mongo-down+memory-alarm: 25; postgres-down-long: {k.long_rate:.0f} for "
            f"{k.long_outage_s:.0f} s), "
            f"{k.duration:.0f} s of load or more (fault hold + 8 s), "
            f"fault at {k.inject_at:.0f} s; gunicorn 2 gevent workers; registrations worker "
            f"1 process x 8 threads; PUBLISH_TIMEOUT=2, RETRY_MAX_BACKOFF_MS={k.max_backoff_ms}"
        )

    def start(self) -> None:
        """Every private service up, and the schema applied (`flask --app landing init-db`)."""
        cleanup.add("stop private PostgreSQL", self.postgres.stop)
        self.postgres.start()
        self.redis.start()
        cleanup.add("stop drill-a@localhost", self.rabbit.destroy)
        self.rabbit.start()
        self.mongo.fresh()
        env = self.stores(self.rabbit.url("/")).child_env(APP_ENV="development")
        run([str(BIN / "flask"), "--app", "landing", "init-db"], 120, env=env)

    def stores(self, rabbitmq_url: str) -> Stores:
        """The app's four URLs, all pointing at our private services."""
        return Stores(self.postgres.url, rabbitmq_url, self.redis.url, self.mongo.url)

    def drill(self, fault: Fault, index: int) -> DrillResult:
        """One drill on fresh state; a cluster drill builds and removes its cluster."""
        broker = self.rabbit
        key = None
        try:
            if fault.cluster:
                broker = Cluster(self.root)
                key = cleanup.add("remove the drill cluster", broker.destroy)
                broker.start()
            return self._on(broker, fault, index)
        except Exception as error:
            return DrillResult(fault.name, error=f"{type(error).__name__}: {error}")
        finally:
            if key is not None:
                cleanup.done(key)

    def _on(self, broker, fault: Fault, index: int) -> DrillResult:
        vhost = f"drill-{fault.name}"
        self._reset()
        broker.add_vhost(vhost)
        log_dir = self.log_dir / fault.name
        log_dir.mkdir(exist_ok=True)
        extra = {"RETRY_MAX_BACKOFF_MS": str(self.knobs.max_backoff_ms)}
        if fault.cluster:
            extra["RABBITMQ_QUEUE_TYPE"] = "quorum"
        stores = self.stores(broker.url(vhost))
        stack = AppStack(stores, broker.probe_url(vhost), log_dir, **extra)
        env = Env(broker, self.postgres, self.redis, self.mongo, stack, vhost)
        try:
            return run_drill(fault, Phones(10 + index), env, self.knobs, stores)
        finally:
            with contextlib.suppress(Exception):
                broker.delete_vhost(vhost)

    def _reset(self) -> None:
        """Empty table, Redis and attempt log; every service answering."""
        self._healthy()
        truncate(self.postgres.url)
        redis.Redis.from_url(self.redis.url).flushall()
        self.mongo.fresh()

    def _healthy(self) -> None:
        """The previous drill's fault is gone: each service answers (restarted if not)."""
        if not wait_until(self.postgres.ready, 30):
            raise RuntimeError("the private PostgreSQL does not answer")
        if not wait_until(self.redis.ready, 5):
            self.redis.kill()
            self.redis.start()
        if self.rabbit.memory_alarm():
            raise RuntimeError("drill-a@localhost still has a memory alarm")
        self.rabbit.ctl("await_startup", timeout=120)
