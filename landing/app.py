"""The public API's app factory: every extension bound to one Settings object."""

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from flask import Flask

from landing import views
from landing.admin import init_admin
from landing.admission.challenge import Challenges
from landing.admission.gate import Gate
from landing.admission.keys import PhoneKeys
from landing.admission.limiter import init_limiter
from landing.admission.pressure import Pressure
from landing.cors import init_cors
from landing.errors import register_error_handlers
from landing.intake import Intake
from landing.openapi import init_openapi
from landing.ops import health
from landing.ops.cli import register_commands
from landing.ops.metrics import init_metrics
from landing.page import init_page
from landing.request_ids import init_request_ids
from landing.shared.db import init_database
from landing.shared.json_logs import use_json_logs
from landing.shared.mongo import connect as connect_mongo
from landing.shared.publisher import Publisher
from landing.shared.results import build_result_backend
from landing.shared.settings import Settings, load
from landing.turned_away import TurnedAwayBatch
from landing.verification import init_verification
from landing.visitor import trusted_networks


class Landing(Flask):
    """Flask, asking once per function (not on every request) whether it is a coroutine,
    and able to decline an extension's per-request hooks.

    Flask wraps each view and hook in ensure_sync on every call, and inspecting a function
    each time cost ~2% of the web's CPU under load (py-spy). An async function is still
    wrapped. Views, hooks and handlers are a few dozen; past REMEMBERED (functions made per
    request, e.g. after_this_request's) nothing more is kept.
    """

    REMEMBERED = 512

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._sync: dict[Callable, Callable] = {}
        self._declining = False

    @contextmanager
    def declining_request_hooks(self) -> Iterator[None]:
        """Inside it, before_request, after_request and teardown_request register nothing.

        For an extension whose hooks would run around every request and do nothing there:
        flask-limiter's (landing.admission.limiter says why, and what they cost).
        """
        self._declining = True
        try:
            yield
        finally:
            self._declining = False

    def before_request[F: Callable](self, f: F) -> F:
        return f if self._declining else super().before_request(f)

    def after_request[F: Callable](self, f: F) -> F:
        return f if self._declining else super().after_request(f)

    def teardown_request[F: Callable](self, f: F) -> F:
        return f if self._declining else super().teardown_request(f)

    def ensure_sync(self, func: Callable) -> Callable:
        if (wrapped := self._sync.get(func)) is None:
            wrapped = super().ensure_sync(func)
            if len(self._sync) < self.REMEMBERED:
                self._sync[func] = wrapped
        return wrapped


def create_app(settings: Settings | None = None) -> Flask:
    """Build the WSGI app from the environment's settings, unless given others (tests)."""
    settings = load() if settings is None else settings
    app = Landing("landing")
    app.config.update(
        SETTINGS=settings,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        TRUSTED_PROXIES=trusted_networks(settings.trusted_proxies),
    )
    _configure_logging(settings.log_level)
    # Middleware around the whole app: every answer has its id and is counted, whatever made it.
    init_request_ids(app)
    init_metrics(app)

    init_database(settings.database_url, settings.db_max_connections)
    app.extensions["publisher"] = Publisher.for_settings(settings)
    app.extensions["turned_away"] = TurnedAwayBatch(app.extensions["publisher"])
    app.extensions["results"] = build_result_backend(settings)
    # Where a number is counted: the gate counts it, erasure finds its counters.
    app.extensions["phone_keys"] = PhoneKeys(settings.limit_key_secret)
    app.extensions["gate"] = Gate(
        app.extensions["results"],
        (settings.rate_limit, settings.phone_rate_limit),
        settings.result_ttl,
        app.extensions["phone_keys"],
    )
    redis = app.extensions["results"].client
    app.extensions["challenges"] = Challenges(
        settings.challenge_secret, settings.challenge_max_number, settings.challenge_expires, redis
    )
    app.extensions["pressure"] = Pressure(
        settings.challenge_mode,
        settings.challenge_network_rate,
        settings.challenge_everyone_rate,
        settings.challenge_hold,
        redis,
    )
    app.extensions["intake"] = Intake(app.extensions["gate"], app.extensions["publisher"])
    app.extensions["mongo"] = connect_mongo(settings.mongo_url, settings.mongo_timeout_ms)
    with app.declining_request_hooks():  # flask-limiter's would do nothing but cost
        init_limiter(app, settings)

    _register(app)
    return app


def close_app(app: Flask) -> None:
    """Close the connections an app opened (tests and tools that build several apps)."""
    app.extensions["turned_away"].flush()
    app.extensions["publisher"].close()
    app.extensions["mongo"].close()
    app.extensions["results"].client.close()


def _register(app: Flask) -> None:
    """Every route and handler: the API, health, the page, CORS, the contract, operators'."""
    health.init_readiness(app)
    app.register_blueprint(views.bp)
    init_verification(app)  # the code step: 404 unless VERIFICATION=sms
    app.register_blueprint(health.bp)
    register_error_handlers(app)
    register_commands(app)
    init_openapi(app)
    init_page(app)
    init_cors(app)
    init_admin(app)


def _configure_logging(level: str) -> None:
    """JSON lines on stderr, unless the host set logging up (gunicorn.conf.py, pytest)."""
    root = logging.getLogger()
    if not root.handlers:
        use_json_logs()
        root.setLevel(level)
    # pika narrates every connection at INFO; its warnings and errors are what matter.
    logging.getLogger("pika").setLevel(logging.WARNING)
