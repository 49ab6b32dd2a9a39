"""flask-limiter on Redis: the status route's limit, and the store of the turned-away cap.

The sign-up route is exempt: its limits are the gate's (gate.py), counted with its other
writes in one script. flask-limiter keeps the status lookups' per-address limit
(STATUS_RATE_LIMIT, the `limit` decorator in landing.views) and, through `Limiter.limiter`,
the cap on how many turned-away attempts an address may add to the history (refused.py).
Its 429's Retry-After is read from `Limiter.current_limit` (landing.errors).

Its per-request hooks are left out. flask-limiter 4.1.1's init_app gives every app three:
a check before each request (default, application and blueprint limits), one after it
(deduct_when deductions and X-RateLimit headers) and a teardown (resets what the check kept
on the request context, which ends with the request anyway). We set none of those limits,
no deduct_when and no headers (headers_enabled=False below), so the three only cost:
~5%, ~1.5% and ~1% of the web's CPU under load (py-spy). 4.1.1 offers no public switch for
them (no auto_check, no check()), so create_app initialises the limiter inside
Landing.declining_request_hooks(), where Flask's own registration methods register nothing.
No attribute of flask-limiter is named or changed; what this relies on is how its `limit`
decorator works: the decorated view checks its limit itself when it is called (the hook
before the request leaves a decorated view's limits to it), and current_limit is the limit
that check used. If a release moved that check into a hook, the
status route would go unlimited: tests/landing/admission/test_limiter.py and
tests/landing/test_api.py's status limit test fail then.
"""

from flask import Flask, current_app
from flask_limiter import Limiter

from landing.shared.settings import Settings
from landing.visitor import rate_limit_key

limiter = Limiter(key_func=rate_limit_key, headers_enabled=False)


def init_limiter(app: Flask, settings: Settings) -> None:
    """Bind the limiter to app, on settings' Redis (inside Landing.declining_request_hooks)."""
    app.config.update(
        RATELIMIT_STORAGE_URI=settings.redis_url,
        RATELIMIT_STORAGE_OPTIONS={
            "socket_connect_timeout": settings.redis_timeout,
            "socket_timeout": settings.redis_timeout,
        },
        # Redis down or hung: keep answering, limiting per process in memory meanwhile.
        RATELIMIT_SWALLOW_ERRORS=True,
        RATELIMIT_IN_MEMORY_FALLBACK_ENABLED=True,
    )
    limiter.init_app(app)


def status_rate_limit() -> str:
    """STATUS_RATE_LIMIT: status lookups per client address."""
    return current_app.config["SETTINGS"].status_rate_limit


def challenge_rate_limit() -> str:
    """CHALLENGE_RATE_LIMIT: challenges issued per client address."""
    return current_app.config["SETTINGS"].challenge_rate_limit
