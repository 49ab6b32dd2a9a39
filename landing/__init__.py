"""landing: the front door of a landing page that never loses a sign-up."""

import logging
from typing import Any

from flask import Flask

from actors.broker import build_result_backend
from actors.db import init_database
from actors.logs import use_json_logs
from actors.publisher import Publisher
from actors.settings import settings as environment_settings
from landing.cli import register_commands
from landing.errors import register_error_handlers
from landing.extensions import limiter
from landing.metrics import init_metrics
from landing.placeholders import placeholder_writer
from landing.request_ids import init_request_ids


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    """Build the WSGI app from the environment's settings, with overrides (tests) on top."""
    settings = environment_settings.replace(**(overrides or {}))
    app = Flask(__name__)
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_STORAGE_OPTIONS={
            "socket_connect_timeout": settings.redis_timeout,
            "socket_timeout": settings.redis_timeout,
        },
        # Redis down or hung: keep accepting, limiting per process in memory meanwhile.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    _configure_logging(settings.log_level)
    # First, so their hooks wrap every other one (the limiter's included).
    init_request_ids(app)
    init_metrics(app)

    init_database(settings.database_url, settings.db_max_connections)
    app.extensions["publisher"] = Publisher.for_settings(settings)
    app.extensions["results"] = build_result_backend(settings)
    app.extensions["placeholders"] = placeholder_writer(app.extensions["results"])
    limiter.init_app(app)

    from landing import health, views

    app.register_blueprint(views.bp)
    app.register_blueprint(health.bp)
    register_error_handlers(app)
    register_commands(app)
    return app


def _configure_logging(level: str) -> None:
    """JSON lines on stderr, unless the host set logging up (gunicorn.conf.py, pytest)."""
    root = logging.getLogger()
    if not root.handlers:
        use_json_logs()
        root.setLevel(level)
    # pika narrates every connection at INFO; its warnings and errors are what matter.
    logging.getLogger("pika").setLevel(logging.WARNING)
