"""Every setting landing reads, from the environment, in one place.

Each process calls load() once where it starts (create_app, create_dashboard, actors.worker,
gunicorn.conf.py) and passes the Settings on; nothing else reads the environment. Defaults
suit `honcho start` on a laptop (everything on localhost); with APP_ENV=production the URLs
that carry credentials and the dashboard password have no default, and a missing one stops
the process at start-up.
"""

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from landing.shared.queues import check_queue_type

DEV_DEFAULTS = {
    "DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/landing",
    "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "MONGO_URL": "mongodb://127.0.0.1:27017/logs",
    # The task dashboard: RabbitMQ's management API, and the password operators type.
    "RABBITMQ_MANAGEMENT_URL": "http://guest:guest@127.0.0.1:15672",
    "DASHBOARD_PASSWORD": "admin",  # the dashboard listens on 127.0.0.1 in development
}
# What production must be given: listed, not derived from DEV_DEFAULTS, so a new dev
# default never becomes a required production setting by accident.
SECRETS = (
    "DATABASE_URL",
    "RABBITMQ_URL",
    "REDIS_URL",
    "MONGO_URL",
    "RABBITMQ_MANAGEMENT_URL",
    "DASHBOARD_PASSWORD",
)


@dataclass(frozen=True)
class Settings:
    app_env: str = "development"
    database_url: str = DEV_DEFAULTS["DATABASE_URL"]
    rabbitmq_url: str = DEV_DEFAULTS["RABBITMQ_URL"]  # several nodes: comma-separated URLs
    rabbitmq_queue_type: str = "classic"  # or quorum (replicated; for a cluster)
    redis_url: str = DEV_DEFAULTS["REDIS_URL"]
    mongo_url: str = DEV_DEFAULTS["MONGO_URL"]
    rate_limit: str = "20/minute"  # sign-ups per client address (an IPv6 client: its /64)
    phone_rate_limit: str = "5/hour"  # sign-ups per phone number, from any addresses
    status_rate_limit: str = "60/minute"  # status lookups per client address
    # Proxies whose X-Forwarded-For names the client (comma-separated networks).
    trusted_proxies: str = "127.0.0.0/8,::1/128"
    publish_timeout: float = 2.0  # seconds the broker gets to confirm before we answer 503
    redis_timeout: float = 0.25  # seconds; Redis serves the limiter and the status placeholders
    mongo_timeout_ms: int = 2000
    result_ttl: int = 86_400  # seconds a registration's status stays readable
    max_retries: int = 5
    log_max_retries: int = 20  # the attempt log outlasts a long MongoDB outage
    log_retention_days: int = 90  # MongoDB deletes an attempt this long after it came
    # Turned-away attempts stored per client address; past it they are only counted.
    turned_away_log_limit: str = "30/minute"
    retry_min_backoff_ms: int = 1_000
    retry_max_backoff_ms: int = 300_000
    actor_time_limit_ms: int = 30_000
    db_max_connections: int = 16
    max_body_bytes: int = 4_096
    web_bind: str = "127.0.0.1:8000"  # gunicorn's address; compose binds 0.0.0.0:8000
    web_workers: int = 0  # gunicorn processes; 0 means one per CPU core
    web_connections: int = 1000  # requests one gunicorn process serves at once (gevent)
    log_level: str = "INFO"
    worker_metrics_host: str = "127.0.0.1"  # the workers' /metrics; compose: 0.0.0.0
    worker_metrics_port: int = 9191
    rabbitmq_management_url: str = DEV_DEFAULTS["RABBITMQ_MANAGEMENT_URL"]
    dashboard_user: str = "admin"
    dashboard_password: str = DEV_DEFAULTS["DASHBOARD_PASSWORD"]

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some values changed (tests pass overrides through create_app)."""
        return replace(self, **changes)


def _convert(field_type: Any, raw: str) -> Any:
    kind = {"int": int, "float": float}.get(getattr(field_type, "__name__", field_type), str)
    return kind(raw)


def load(environ: dict[str, str] | None = None) -> Settings:
    """Build Settings from environment variables named like the fields, upper-cased."""
    environ = os.environ if environ is None else environ
    values = {}
    for field in fields(Settings):
        raw = environ.get(field.name.upper())
        if raw not in (None, ""):
            values[field.name] = _convert(field.type, raw)
    settings = Settings(**values)
    check_queue_type(settings.rabbitmq_queue_type)
    if settings.app_env == "production":
        missing = [name for name in SECRETS if not environ.get(name)]
        if missing:
            raise RuntimeError(f"APP_ENV=production needs these settings: {', '.join(missing)}")
    return settings
