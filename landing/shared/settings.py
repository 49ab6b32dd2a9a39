"""Every setting landing reads, from the environment, in one place.

Each process calls load() once where it starts (create_app, create_dashboard, actors.worker,
gunicorn.conf.py) and passes the Settings on; nothing else reads the environment.

APP_ENV is production unless it says development (`make dev`, `.env.example`, the tests).
Development defaults suit `honcho start` on a laptop (everything on localhost). In
production no secret has a default: a process refuses to start without the secrets it uses
(SECRETS), and any other one is empty, so no process holds a credential it never needs.
"""

import dataclasses
import os
from collections.abc import Mapping
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
    "DASHBOARD_PASSWORD": "admin",
    # Keys the per-phone limit's counters: the web counts them, erasure finds them.
    "LIMIT_KEY_SECRET": "development-only-limit-key",
    # The key of erased numbers' tombstones (landing/shared/tombstones.py).
    "ERASURE_SECRET": "dev-only-erasure-secret",
    # Signs the sign-up challenges (landing/admission/challenge.py).
    "CHALLENGE_SECRET": "development-only-challenge-key",
    # The key codes sent by SMS are stored under (landing/shared/verification.py).
    "VERIFICATION_SECRET": "dev-only-verification-secret",
    # The SMS provider's key; the local gateway (landing/ops/sms_gateway.py) takes any.
    "SMS_API_KEY": "dev-only-sms-key",
}
# What each production process must be given: listed, not derived from DEV_DEFAULTS, so a
# new dev default never becomes a required production setting by accident. `migrate` is the
# `flask --app landing` commands that change PostgreSQL's schema or delete from it; they
# build the web's app (create_app), so they are given the web's secrets too.
STORES = ("DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "MONGO_URL")
SECRETS = {
    "web": (*STORES, "LIMIT_KEY_SECRET", "ERASURE_SECRET", "CHALLENGE_SECRET"),
    "worker": (*STORES, "ERASURE_SECRET"),
    # The campaign page reads sign-ups and the attempt log, starts exports (Redis, RabbitMQ)
    # and erases (the keys below; the owner's MIGRATE_DATABASE_URL only if it is given).
    "dashboard": (
        *STORES,
        "RABBITMQ_MANAGEMENT_URL",
        "DASHBOARD_PASSWORD",
        "LIMIT_KEY_SECRET",
        "ERASURE_SECRET",
    ),
    "migrate": (
        *STORES,
        "MIGRATE_DATABASE_URL",
        "LIMIT_KEY_SECRET",
        "ERASURE_SECRET",
        "CHALLENGE_SECRET",
    ),
}
ALL_SECRETS = tuple(DEV_DEFAULTS)  # every setting with a development-only default
CHALLENGE_MODES = ("off", "always", "auto")  # CHALLENGE_MODE's (landing/admission/pressure.py)


def setting(default: Any, doc: str, example: str | None = None) -> Any:
    """A Settings field with what it means, written here once.

    doc is the meaning docs/settings.md and .env.example print (`python -m
    landing.ops.settings_doc` writes both). example is the value .env.example gives it when
    that is not the default: empty for a secret compose must be given, or where empty lets
    compose pick its own default.
    """
    metadata = {"doc": doc} if example is None else {"doc": doc, "example": example}
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Settings:
    app_env: str = setting(
        "production",
        "`development` gives the secrets below localhost defaults (`make dev`, `.env.example`,"
        " the tests); in production each process needs its own secrets and holds no other",
        example="development",
    )
    database_url: str = setting(
        DEV_DEFAULTS["DATABASE_URL"],
        "PostgreSQL as the app's role, which may only read and insert sign-ups",
    )
    migrate_database_url: str = setting(
        DEV_DEFAULTS["MIGRATE_DATABASE_URL"],
        "PostgreSQL as the schema's owner: only `flask --app landing migrate`/`init-db` (which"
        " create the app's role and grant it) and `erase-phone` use it",
    )
    rabbitmq_url: str = setting(
        DEV_DEFAULTS["RABBITMQ_URL"],
        "RabbitMQ; a cluster's nodes as comma-separated URLs, tried in turn (pika query"
        " parameters in a URL override our timeouts)",
    )
    rabbitmq_queue_type: str = setting(
        "classic",
        "`classic`, or `quorum` (replicated queues, for a cluster; compose's default when"
        " empty); a change needs `flask --app landing migrate` with the workers stopped",
    )
    redis_url: str = setting(DEV_DEFAULTS["REDIS_URL"], "Redis: rate-limit counters and statuses")
    mongo_url: str = setting(
        DEV_DEFAULTS["MONGO_URL"], "MongoDB, the attempt log; the database name is the path"
    )
    rate_limit: str = setting(
        "20/minute",
        "sign-up POSTs per client address, an IPv6 client counted by its /64 (every answer"
        " counts, 400s included)",
    )
    phone_rate_limit: str = setting(
        "5/hour",
        "sign-ups of one phone number, from any addresses (counted under a keyed hash of it)",
    )
    limit_key_secret: str = setting(
        DEV_DEFAULTS["LIMIT_KEY_SECRET"],
        "HMAC-SHA256 key of the per-phone counters' Redis keys, so a copy of Redis gives no"
        " number back (`openssl rand -hex 32`); erasure finds the counters with it. A new key"
        " only resets the per-phone limits",
        example="",
    )
    challenge_mode: str = setting(
        "auto",
        "when a sign-up must carry a solved proof-of-work challenge (docs/challenge.md):"
        " `off`, `always`, or `auto` (for a client network past `CHALLENGE_NETWORK_RATE`, for"
        " everyone past `CHALLENGE_EVERYONE_RATE`, until calm for `CHALLENGE_HOLD`)",
    )
    challenge_secret: str = setting(
        DEV_DEFAULTS["CHALLENGE_SECRET"],
        "HMAC-SHA256 key the challenges are signed with (`openssl rand -hex 32`); a new key"
        " only makes the challenges being solved fail once (the page fetches another)",
        example="",
    )
    challenge_max_number: int = setting(
        100_000,
        "a challenge's work: the page tries up to this many SHA-256 hashes, half on average"
        " (docs/challenge.md has the measured solve times)",
    )
    challenge_expires: int = setting(
        300, "seconds a challenge may be solved and used in; a solution is used once"
    )
    challenge_network_rate: str = setting(
        "20/minute",
        "`auto`: sign-ups from one client network (IPv4 /24, IPv6 /48) past which that network"
        " must solve challenges",
    )
    challenge_everyone_rate: str = setting(
        "300/minute", "`auto`: sign-ups overall past which every sign-up must solve a challenge"
    )
    challenge_hold: int = setting(
        600,
        "`auto`: seconds a challenge stays required after its rate was last exceeded",
    )
    challenge_rate_limit: str = setting(
        "30/minute", "challenges (`GET /api/challenge`) per client address"
    )
    status_rate_limit: str = setting(
        "60/minute", "status lookups (`GET /api/register/<request_id>`) per client address"
    )
    trusted_proxies: str = setting(
        "127.0.0.0/8,::1/128",
        "networks whose `X-Forwarded-For` names the client, comma-separated; from any other"
        " peer the header is ignored (compose: nginx's network)",
    )
    publish_timeout: float = setting(
        2.0, "seconds RabbitMQ has to confirm a sign-up's message before the answer is 503"
    )
    redis_timeout: float = setting(
        0.25, "seconds Redis has to connect or answer; past it limits fall back to memory"
    )
    mongo_timeout_ms: int = setting(2000, "MongoDB server-selection and socket timeout, ms")
    result_ttl: int = setting(
        1_800,
        "seconds a registration's status (and its request_id's binding) is kept: API clients"
        " read it within minutes, the page only for a code step (VERIFICATION=sms, ~5"
        " minutes), and `queued` outlives a backlog of 25 more; Redis's memory is sized"
        " for it (docs/capacity.md)",
    )
    max_retries: int = setting(
        5,
        "retries of a registration after an unexpected error (an outage is retried until it"
        " ends, bad data never)",
    )
    log_max_retries: int = setting(
        20, "retries of an attempt-log write: it outlasts a long MongoDB outage"
    )
    log_retention_days: int = setting(
        90, "days an attempt stays in the attempt log (a TTL index on `received_at`)"
    )
    turned_away_log_limit: str = setting(
        "30/minute",
        "turned-away attempts (400, 413, 415, 429) stored per client address; past it they"
        " are only counted (`landing_attempts_not_logged_total`)",
    )
    retry_min_backoff_ms: int = setting(
        1_000, "first retry delay, ms (jitter adds up to as much again); doubles with each retry"
    )
    retry_max_backoff_ms: int = setting(
        300_000, "longest retry delay, ms; keep it well below RabbitMQ's `consumer_timeout`"
    )
    actor_time_limit_ms: int = setting(30_000, "longest a worker may spend on one message, ms")
    worker_delay_prefetch: int = setting(
        256,
        "delayed retries one worker process holds in memory until they are due (dramatiq's"
        " own default is threads x 1000); the rest wait in RabbitMQ, on its disk",
    )
    db_max_connections: int = setting(
        16, "PostgreSQL pool size per process (a worker process writes one batch at a time)"
    )
    max_body_bytes: int = setting(4_096, "larger request bodies are refused with 413")
    web_bind: str = setting(
        "127.0.0.1:8000", "gunicorn's listening address (compose: `0.0.0.0:8000`)"
    )
    web_workers: int = setting(
        0,
        "gunicorn processes; 0 or empty means one per CPU core (compose: 2 per container)",
        example="",
    )
    web_connections: int = setting(
        1000, "requests one gunicorn process serves at once (gevent greenlets)"
    )
    web_access_log: str = setting(
        "off",
        "`on`: gunicorn writes a JSON access line per request. Off by default because nginx,"
        " the public door, logs every request already (its JSON access log); `make dev` turns"
        " it on, where nothing is in front",
    )
    log_level: str = setting("INFO", "log level of the web (the app and gunicorn)")
    worker_metrics_host: str = setting(
        "127.0.0.1", "address of the workers' Prometheus endpoint (compose: `0.0.0.0`)"
    )
    worker_metrics_port: int = setting(
        9191, "port of the workers' Prometheus endpoint, one per `dramatiq` command"
    )
    rabbitmq_management_url: str = setting(
        DEV_DEFAULTS["RABBITMQ_MANAGEMENT_URL"],
        "RabbitMQ's management HTTP API and its user: the task dashboard's counts and consumers",
    )
    dashboard_user: str = setting("admin", "user name the task dashboard asks for")
    dashboard_password: str = setting(
        DEV_DEFAULTS["DASHBOARD_PASSWORD"],
        "the task dashboard's password (the dashboard listens on 127.0.0.1 in development)",
        example="",
    )
    cors_origins: str = setting(
        "",
        "origins (`https://www.example.com`, comma-separated) whose pages may call the API"
        " from a browser; none: no CORS",
    )
    admin_tokens: str = setting(
        "",
        "the operator API's bearer tokens as SHA-256 hex digests, comma-separated, each alone"
        " (every scope) or with `:` and its scopes (`read`, `export`, `erase`, joined by"
        " `+`); none turns the operator API off",
    )
    database_read_url: str = setting(
        "", "a PostgreSQL replica for the operator API's reads; empty: `DATABASE_URL`"
    )
    admin_statement_timeout_ms: int = setting(
        5_000,
        "ms an operator API query may run in PostgreSQL; past it the answer is 503 (0: no limit)",
    )
    export_dir: str = setting(
        "",
        "where workers write CSV exports and the web streams them from; empty:"
        " `landing-exports` in the temporary directory (compose: a volume both mount)",
    )
    erasure_secret: str = setting(
        DEV_DEFAULTS["ERASURE_SECRET"],
        "key of erased numbers' tombstones, a keyed hash, never the number (`openssl rand"
        " -hex 32`); changing it forgets every erasure",
        example="",
    )
    erasure_retention_days: int = setting(
        365,
        "days a tombstone keeps an erased number from being stored, logged or announced"
        " again: longer than a message can wait in a queue or its dead letters",
    )
    webhook_url: str = setting(
        "",
        "where each new registration is POSTed as JSON; empty: no webhook. `https://` in"
        " production (`http://` only with `APP_ENV=development`)",
    )
    webhook_secret: str = setting(
        "",
        "Standard Webhooks secret deliveries are signed with, `whsec_` + base64 of 24-64"
        " random bytes; required with `WEBHOOK_URL` (docs/api.md says how to make one)",
    )
    webhook_secret_previous: str = setting(
        "",
        "while rotating: the secret being retired, which signs every delivery too (a second"
        " signature); empty: none",
    )
    webhook_timeout: float = setting(
        5.0,
        "seconds one delivery attempt may take in all (connect, TLS, send, answer); under"
        " `ACTOR_TIME_LIMIT_MS`",
    )

    verification: str = setting(
        "off",
        "`off`, or `sms`: after its 202 a sign-up's number is sent a one-time code by SMS,"
        " which the page asks for (docs/verification.md); a sign-up is stored either way",
    )
    verification_secret: str = setting(
        DEV_DEFAULTS["VERIFICATION_SECRET"],
        "HMAC-SHA256 key codes and per-number SMS budgets are stored under (`openssl rand"
        " -hex 32`); required with `VERIFICATION=sms`; a new key voids the codes out there",
        example="",
    )
    verification_rate_limit: str = setting(
        "10/minute",
        "code guesses and resends (`POST /api/register/<id>/verify|resend`) per address",
    )
    verification_code_ttl: int = setting(300, "seconds a code sent by SMS can be used")
    verification_attempts: int = setting(5, "wrong guesses a code allows before it is void")
    verification_resend_cooldown: int = setting(
        60, "seconds between two codes for one sign-up (`POST .../resend`)"
    )
    sms_provider: str = setting(
        "kavenegar", "`kavenegar` or `twilio`: whose HTTP API `SMS_BASE_URL` speaks"
    )
    sms_base_url: str = setting(
        "http://127.0.0.1:8025",
        "the SMS provider's API root: `https://api.kavenegar.com`, `https://api.twilio.com`,"
        " or the local gateway `make dev` runs (`python -m landing.ops.sms_gateway`)",
    )
    sms_api_key: str = setting(
        DEV_DEFAULTS["SMS_API_KEY"],
        "Kavenegar's API key, or Twilio's auth token; required with `VERIFICATION=sms`",
        example="",
    )
    sms_account: str = setting("", "Twilio's Account SID (`AC...`); unused by Kavenegar")
    sms_sender: str = setting(
        "",
        "Twilio's `From` number; with Kavenegar, a sender line for `sms/send.json` (empty:"
        " its `verify/lookup.json` with `SMS_TEMPLATE`)",
    )
    sms_template: str = setting(
        "verify", "Kavenegar's verify/lookup template, whose `%token` is the code"
    )
    sms_timeout: float = setting(
        5.0, "seconds one request to the SMS provider may take; under `ACTOR_TIME_LIMIT_MS`"
    )
    sms_mobile_prefixes: str = setting(
        "09",
        "comma-separated prefixes of the stored 0XXXXXXXXXX numbers that may be sent a"
        " code: the country's mobiles, so no code goes to a landline or premium number",
    )
    sms_number_budget: int = setting(5, "codes one number may be sent per day")
    sms_network_budget: int = setting(
        20, "codes per hour for sign-ups from one client network (an IPv4 /24, an IPv6 /48)"
    )
    sms_hourly_budget: int = setting(
        500, "codes sent per hour in all: the ceiling on what SMS pumping could cost"
    )

    def replace(self, **changes: Any) -> "Settings":
        """A copy with some values changed (tests pass overrides through create_app)."""
        return replace(self, **changes)


def _convert(field_type: Any, raw: str) -> Any:
    kind = {"int": int, "float": float}.get(getattr(field_type, "__name__", field_type), str)
    return kind(raw)


def load(environ: Mapping[str, str] | None = None, process: str | None = "web") -> Settings:
    """Build Settings from environment variables named like the fields, upper-cased.

    process names which SECRETS production requires (None: none, for gunicorn.conf.py,
    which reads no secret and serves both the web and the dashboard).
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
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
    check_challenge_mode(settings.challenge_mode)
    check_verification(settings)
    if settings.web_access_log not in ("on", "off"):
        raise ValueError("WEB_ACCESS_LOG must be on or off")
    return settings


def check_challenge_mode(mode: str) -> str:
    """mode, if CHALLENGE_MODE may be it; ValueError otherwise."""
    if mode not in CHALLENGE_MODES:
        raise ValueError(f"CHALLENGE_MODE must be one of {', '.join(CHALLENGE_MODES)}: {mode!r}")
    return mode


def check_verification(settings: Settings) -> None:
    """Refuse at start a verification setting no code could be sent or checked with."""
    if settings.verification not in ("off", "sms"):
        raise ValueError("VERIFICATION must be off or sms")
    if settings.sms_provider not in ("kavenegar", "twilio"):
        raise ValueError("SMS_PROVIDER must be kavenegar or twilio")
    # The SMS_* settings only the sending worker holds: it checks them (actors.sms.unusable).
    if settings.verification == "sms" and not settings.verification_secret:
        raise RuntimeError("VERIFICATION=sms needs VERIFICATION_SECRET")
