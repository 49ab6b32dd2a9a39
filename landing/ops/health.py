"""Liveness and readiness probes.

/health is the load balancer's (nginx passes it): the process is alive, nothing touched.
/ready is for the internal network only. It must answer in bounded time whatever hangs: a
PostgreSQL that accepts connections and never answers used to block psycopg2, and with it
the whole gevent loop of that web process (sign-ups included), until gunicorn killed it.
So each probe runs in a real OS thread, at most one per service at a time, the answer waits
PROBE_TIMEOUT at most, and results are kept CACHE_SECONDS so a flood of /ready costs nothing.
"""

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pika
from flask import Blueprint, current_app
from gevent import monkey

from landing.shared.db import db
from landing.shared.rabbitmq import node_parameters

PROBE_TIMEOUT = 3.0  # seconds the answer waits for all probes together
CACHE_SECONDS = 2.0
SERVICES = ("postgresql", "redis", "rabbitmq", "mongodb")
BLOCKING = {"postgresql"}  # psycopg2 blocks gevent's loop; the other clients cooperate

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """The process is alive; touches nothing else."""
    return {"status": "ok"}


@bp.get("/ready")
def ready():
    """Each backing service answers; 503 when any does not (within PROBE_TIMEOUT)."""
    checks = current_app.extensions["readiness"].check()
    healthy = all(state == "ok" for state in checks.values())
    return {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
    }, 200 if healthy else 503


class Readiness:
    """The services' probes, run off the event loop, one at a time each, remembered briefly."""

    def __init__(self, probes: dict[str, Callable[[], object]]) -> None:
        self.probes = probes
        self._lock = threading.Lock()
        self._running: dict[str, Callable[[float], str]] = {}
        self._cached: tuple[float, dict[str, str]] | None = None

    def check(self) -> dict[str, str]:
        """ "ok" or "error: <kind>" per service; a probe still running after the deadline
        reports error: Timeout and is not started again until it ends."""
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < CACHE_SECONDS:
                return self._cached[1]
            for name, probe in self.probes.items():
                if name not in self._running:
                    self._running[name] = _off_loop(_outcome(probe), name in BLOCKING)
        deadline = time.monotonic() + PROBE_TIMEOUT
        results = {name: self._wait(name, deadline) for name in self.probes}
        with self._lock:
            self._cached = (time.monotonic(), results)
        return results

    def _wait(self, name: str, deadline: float) -> str:
        try:
            result = self._running[name](max(0.0, deadline - time.monotonic()))
        except Exception:  # still running: the service hangs
            return "error: Timeout"
        with self._lock:
            self._running.pop(name, None)
        return result


def _outcome(probe: Callable[[], object]) -> Callable[[], str]:
    def run() -> str:
        try:
            probe()
            return "ok"
        except Exception as error:
            return f"error: {type(error).__name__}"

    return run


_threads = ThreadPoolExecutor(max_workers=len(SERVICES), thread_name_prefix="ready")


def _off_loop(run: Callable[[], str], blocking: bool) -> Callable[[float], str]:
    """Start run beside the request; returns a wait(timeout) for its result.

    Under gevent, a blocking probe (psycopg2, which blocks in C) runs in gevent's pool of
    real threads, where it cannot stop the loop; the others are cooperative and run as
    greenlets, since their clients belong to the loop's thread. Elsewhere, threads.
    """
    if not monkey.is_module_patched("threading"):
        future = _threads.submit(run)
        return lambda timeout: future.result(timeout)
    import gevent

    task = gevent.get_hub().threadpool.spawn(run) if blocking else gevent.spawn(run)

    def wait(timeout: float) -> str:
        try:
            return task.get(timeout=timeout)
        except gevent.Timeout:  # a BaseException: it would end the request, not the wait
            raise TimeoutError from None

    return wait


def init_readiness(app) -> None:
    """The app's probes, from its own settings and clients."""
    config = app.config["SETTINGS"]
    parameters = node_parameters(config.rabbitmq_url, min(config.publish_timeout, PROBE_TIMEOUT))
    app.extensions["readiness"] = Readiness(
        {
            "postgresql": _ping_postgresql,
            "redis": app.extensions["results"].client.ping,
            "rabbitmq": lambda: pika.BlockingConnection(parameters).close(),
            "mongodb": lambda: app.extensions["mongo"].admin.command("ping"),
        }
    )


def _ping_postgresql() -> None:
    # A pooled connection, given back at once: one that broke is dropped, not reused forever.
    with db.connection_context():
        db.execute_sql("SELECT 1")
