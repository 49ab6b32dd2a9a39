"""Liveness and readiness probes for load balancers and orchestrators."""

import pika
from flask import Blueprint, current_app

from landing.shared.db import db
from landing.shared.rabbitmq import node_parameters

bp = Blueprint("health", __name__)


@bp.get("/health")
def health():
    """The process is alive; touches nothing else."""
    return {"status": "ok"}


@bp.get("/ready")
def ready():
    """Each backing service answers; 503 when any does not."""
    checks = {
        "postgresql": _check(_ping_postgresql),
        "redis": _check(lambda: current_app.extensions["results"].client.ping()),
        "rabbitmq": _check(_ping_rabbitmq),
        "mongodb": _check(lambda: current_app.extensions["mongo"].admin.command("ping")),
    }
    healthy = all(state == "ok" for state in checks.values())
    return {
        "status": "ok" if healthy else "unavailable",
        "checks": checks,
    }, 200 if healthy else 503


def _check(probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as error:
        return f"error: {type(error).__name__}"


def _ping_postgresql() -> None:
    # A pooled connection, given back at once: one that broke is dropped, not reused forever.
    with db.connection_context():
        db.execute_sql("SELECT 1")


def _ping_rabbitmq() -> None:
    config = current_app.config["SETTINGS"]
    pika.BlockingConnection(node_parameters(config.rabbitmq_url, config.publish_timeout)).close()
