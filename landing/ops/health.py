"""Liveness and readiness probes.

/health is the load balancer's (nginx passes it): the process is alive, nothing touched.
/ready is for the internal network only. It must answer in bounded time whatever hangs: a
PostgreSQL that accepts connections and never answers used to block psycopg2, and with it
the whole gevent loop of that web process (sign-ups included), until gunicorn killed it.
So each probe runs in a real OS thread, at most one per service at a time, the answer waits
PROBE_TIMEOUT at most, and results are kept CACHE_SECONDS so a flood of /ready costs nothing.

A service that answers but is impaired is "degraded: <why>", and /ready still answers 200:
a Redis at maxmemory refuses writes, yet sign-ups flow (limited in each process's memory,
without statuses; landing/admission/). Every web process sees the same Redis, so a 503 would
take them all out of the load balancer at once (Kubernetes' readinessProbe is /ready) and
turn a degraded service into no service. The log, landing_signups_admitted_in_memory_total
and "status": "degraded" tell operators instead.
"""

import threading
import time
from collections.abc import Callable

import pika
from flask import Blueprint, current_app

from landing.off_loop import start
from landing.shared.db import db
from landing.shared.rabbitmq import node_parameters

PROBE_TIMEOUT = 3.0  # seconds the answer waits for all probes together
# Redis refuses a write once used_memory passes maxmemory, and used_memory then hovers just
# under it (the refused command's buffer is freed): near enough counts as full.
REDIS_FULL = 0.99
CACHE_SECONDS = 2.0
BLOCKING = {"postgresql"}  # psycopg2 blocks gevent's loop; the other clients cooperate

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """The process is alive; touches nothing else."""
    return {"status": "ok"}


@bp.get("/ready")
def ready():
    """Each backing service answers; 503 when any does not (within PROBE_TIMEOUT), 200 with
    "status": "degraded" when one answers impaired (Redis full)."""
    checks = current_app.extensions["readiness"].check()
    if any(state.startswith("error") for state in checks.values()):
        return {"status": "unavailable", "checks": checks}, 503
    degraded = any(state != "ok" for state in checks.values())
    return {"status": "degraded" if degraded else "ok", "checks": checks}


class Readiness:
    """The services' probes, run off the event loop, one at a time each, remembered briefly."""

    def __init__(self, probes: dict[str, Callable[[], object]]) -> None:
        self.probes = probes
        self._lock = threading.Lock()
        self._running: dict[str, Callable[[float], str]] = {}
        self._cached: tuple[float, dict[str, str]] | None = None

    def check(self) -> dict[str, str]:
        """ "ok", "degraded: <why>" or "error: <kind>" per service; a probe still running
        after the deadline reports error: Timeout and is not started again until it ends."""
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < CACHE_SECONDS:
                return self._cached[1]
            for name, probe in self.probes.items():
                if name not in self._running:
                    self._running[name] = start(_outcome(probe), name in BLOCKING)
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
            answer = probe()  # a probe may name an impairment: "degraded: <why>"
            return answer if isinstance(answer, str) and answer.startswith("degraded") else "ok"
        except Exception as error:
            return f"error: {type(error).__name__}"

    return run


def init_readiness(app) -> None:
    """The app's probes, from its own settings and clients."""
    config = app.config["SETTINGS"]
    parameters = node_parameters(config.rabbitmq_url, min(config.publish_timeout, PROBE_TIMEOUT))
    app.extensions["readiness"] = Readiness(
        {
            "postgresql": _ping_postgresql,
            "redis": lambda: _redis_state(app.extensions["results"].client),
            "rabbitmq": lambda: pika.BlockingConnection(parameters).close(),
            "mongodb": lambda: app.extensions["mongo"].admin.command("ping"),
        }
    )


def _redis_state(client) -> str:
    """ "ok", or "degraded: full (maxmemory, <policy>)"; INFO answers when writes would not.

    With noeviction (compose's) a full Redis refuses writes; with an evicting policy it
    drops keys instead. Either way it is past what it was sized for.
    """
    memory = client.info("memory")
    maxmemory = memory.get("maxmemory", 0)
    if maxmemory and memory["used_memory"] >= REDIS_FULL * maxmemory:
        return f"degraded: full (maxmemory, {memory.get('maxmemory_policy', 'unknown')})"
    return "ok"


def _ping_postgresql() -> None:
    # A pooled connection, given back at once: one that broke is dropped, not reused forever.
    with db.connection_context():
        db.execute_sql("SELECT 1")
