"""Every setting landing reads, from the environment, in one place.

Each process calls load() once where it starts (create_app, create_dashboard, actors.worker,
gunicorn.conf.py) and passes the Settings on; nothing else reads the environment.

APP_ENV is production unless it says development (`make dev`, `.env.example`, the tests).
Development defaults suit `honcho start` on a laptop (everything on localhost). In
production no secret has a default: a process refuses to start without the secrets it uses
(SECRETS), and any other one is empty, so no process holds a credential it never needs.
"""

import os
from dataclasses import dataclass, fields, replace
from typing import Any

from landing.shared.queues import check_queue_type

DEV_DEFAULTS = {
    # The web and workers' role may only read and insert sign-ups; `migrate` owns the schema.
    "DATABASE_URL": "postgresql://landing_app@127.0.0.1:5432/landing",
    "MIGRATE_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/landing",
    "RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/%2F",
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "MONGO_URL": "mongodb://127.0.0.1:27017/logs",
    # The task dashboard: RabbitMQ's management API, and the password operators type.
    "RABBITMQ_MANAGEMENT_URL": "http://guest:guest@127.0.0.1:15672",
    "DASHBOARD_PASSWORD": "admin",  # the dashboard listens on 127.0.0.1 in development
    # Keys the per-phone limit's counters (landing.admission.keys): the web counts, erasure finds.
    "LIMIT_KEY_SECRET": "development-only-limit-key",
    # The key of erased numbers' tombstones (landing/shared/tombstones.py).
    "ERASURE_SECRET": "dev-only-erasure-secret",
}
# What each production process must be given: listed, not derived from DEV_DEFAULTS, so a
# new dev default never becomes a required production setting by accident. `migrate` is the
# `flask --app landing` commands that change PostgreSQL's schema or delete from it.
STORES = ("DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "MONGO_URL")
SECRETS = {
    "web": (*STORES, "LIMIT_KEY_SECRET", "ERASURE_SECRET"),
    "worker": (*STORES, "ERASURE_SECRET"),
    "dashboard": ("RABBITMQ_URL", "RABBITMQ_MANAGEMENT_URL", "DASHBOARD_PASSWORD"),
    "migrate": (*STORES, "MIGRATE_DATABASE_URL", "LIMIT_KEY_SECRET", "ERASURE_SECRET"),
}
ALL_SECRETS = tuple(DEV_DEFAULTS)  # every setting with a development-only default


@dataclass(frozen=True)
class Settings:
    app_env: str = "production"  # or development: localhost defaults for the secrets
    database_url: str = DEV_DEFAULTS["DATABASE_URL"]
    migrate_database_url: str = DEV_DEFAULTS["MIGRATE_DATABASE_URL"]  # the schema's owner
    rabbitmq_url: str = DEV_DEFAULTS["RABBITMQ_URL"]  # several nodes: comma-separated URLs
    rabbitmq_queue_type: str = "classic"  # or quorum (replicated; for a cluster)
    redis_url: str = DEV_DEFAULTS["REDIS_URL"]
    mongo_url: str = DEV_DEFAULTS["MONGO_URL"]
    rate_limit: str = "20/minute"  # sign-ups per client address (an IPv6 client: its /64)
    phone_rate_limit: str = "5/hour"  # sign-ups per phone number, from any addresses
    # HMAC key of the per-phone counters' Redis keys; a new one only resets those counters.
    limit_key_secret: str = DEV_DEFAULTS["LIMIT_KEY_SECRET"]
    status_rate_limit: str = "60/minute"  # status lookups per client address
    # Proxies whose X-Forwarded-For names the client (comma-separated networks).
    trusted_proxies: str = "127.0.0.0/8,::1/128"
    publish_timeout: float = 2.0  # seconds the broker gets to confirm before we answer 503
    redis_timeout: float = 0.25  # seconds; Redis serves the limiter and the status placeholders
    mongo_timeout_ms: int = 2000
    # Seconds a registration's status stays readable: the page polls for ~5 minutes, and a
    # status outlives a backlog of 25 more; Redis's memory is sized for it (docs/capacity.md).
    result_ttl: int = 1_800
    max_retries: int = 5
    log_max_retries: int = 20  # the attempt log outlasts a long MongoDB outage
    log_retention_days: int = 90  # MongoDB deletes an attempt this long after it came
    # Turned-away attempts stored per client address; past it they are only counted.
    turned_away_log_limit: str = "30/minute"
    retry_min_backoff_ms: int = 1_000
    retry_max_backoff_ms: int = 300_000
    actor_time_limit_ms: int = 30_000
    # Delayed retries a worker process holds in memory until their time comes (dramatiq's
    # own default is threads x 1000); the rest wait in RabbitMQ, on its disk.
    worker_delay_prefetch: int = 256
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
    # Origins whose pages may call the API from a browser (comma-separated; none: no CORS).
    cors_origins: str = ""
    # The operator API's bearer tokens, as SHA-256 hex digests (comma-separated; none: off),
    # each with the scopes it grants: `<digest>` all, `<digest>:read+export` (landing.admin.auth).
    admin_tokens: str = ""
    database_read_url: str = ""  # a replica for the operator API's reads; empty: the primary
    admin_statement_timeout_ms: int = 5_000  # the operator API's longest PostgreSQL statement
    # Where exports are written; the web reads them there (compose: a volume both mount).
    export_dir: str = ""  # empty: landing-exports in the system's temporary directory
    erasure_secret: str = DEV_DEFAULTS["ERASURE_SECRET"]  # keys erased numbers' tombstones
    # Days a tombstone keeps an erased number out: longer than a message can wait in a queue
    # or its dead letters before it is handled.
    erasure_retention_days: int = 365
    # Where each new registration is POSTed; empty: no webhook. https:// in production.
    webhook_url: str = ""
    # Standard Webhooks secrets (whsec_<base64>): the one deliveries are signed with, needed
    # with a URL, and while rotating, the previous one, which signs every delivery too.
    webhook_secret: str = ""
    webhook_secret_previous: str = ""
    webhook_timeout: float = 5.0  # seconds one delivery may take in all: connect to answer

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some values changed (tests pass overrides through create_app)."""
        return replace(self, **changes)


def _convert(field_type: Any, raw: str) -> Any:
    kind = {"int": int, "float": float}.get(getattr(field_type, "__name__", field_type), str)
    return kind(raw)


def load(environ: dict[str, str] | None = None, process: str | None = "web") -> Settings:
    """Build Settings from environment variables named like the fields, upper-cased.

    process names which SECRETS production requires (None: none, for gunicorn.conf.py,
    which reads no secret and serves both the web and the dashboard).
    """
    environ = os.environ if environ is None else environ
    values = {}
    for field in fields(Settings):
        raw = environ.get(field.name.upper())
        if raw not in (None, ""):
            values[field.name] = _convert(field.type, raw)
    production = values.get("app_env", Settings.app_env) == "production"
    if production:
        required = SECRETS[process] if process else ()
        missing = [name for name in required if not environ.get(name)]
        if missing:
            raise RuntimeError(f"APP_ENV=production needs these settings: {', '.join(missing)}")
        values |= {name.lower(): "" for name in ALL_SECRETS if not environ.get(name)}
    settings = Settings(**values)
    check_queue_type(settings.rabbitmq_queue_type)
    return settings
