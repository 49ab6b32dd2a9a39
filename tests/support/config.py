"""The settings every test runs with, and the same values as a child process's environment.

Tests never touch a developer's data: they use the `landing_test` database (as the role
`landing_test_app`, which may only read and insert sign-ups), Redis db 15,
the RabbitMQ vhost `landing_test` and a MongoDB-wire stand-in of their own (or MONGO_URL
when it names a real MongoDB). TEST_NAMESPACE and TEST_REDIS_DB rename the database/vhost
and the Redis db, so two test runs on one machine keep out of each other's way.

Computed here, never written to os.environ: tests pass `settings` to create_app,
create_dashboard and build_workers, and give ENVIRONMENT to the processes they start.
"""

import os
import sys
import tempfile
from pathlib import Path

from harness.local import free_port
from landing.shared.settings import load

VHOST = os.environ.get("TEST_NAMESPACE", "landing_test")
REDIS_DB = os.environ.get("TEST_REDIS_DB", "15")
#: A real MongoDB the developer named; otherwise the session starts a stand-in at MONGO_URL.
REAL_MONGO = os.environ.get("MONGO_URL")

ENVIRONMENT = {
    "APP_ENV": "development",
    # The app's own role (read and insert only), as in production; the schema's owner apart.
    "DATABASE_URL": f"postgresql://{VHOST}_app@127.0.0.1:5432/{VHOST}",
    "MIGRATE_DATABASE_URL": f"postgresql://postgres@127.0.0.1:5432/{VHOST}",
    "RABBITMQ_URL": f"amqp://guest:guest@127.0.0.1:5672/{VHOST}",
    "REDIS_URL": f"redis://127.0.0.1:6379/{REDIS_DB}",
    "MONGO_URL": REAL_MONGO or f"mongodb://127.0.0.1:{free_port()}/logs_test",
    "MAX_RETRIES": "2",
    "RETRY_MIN_BACKOFF_MS": "100",
    "RETRY_MAX_BACKOFF_MS": "500",
    "MONGO_TIMEOUT_MS": "1000",
    # No challenge unless a test asks for one (tests/landing/admission/test_challenge*.py):
    # the other tests sign up from one address far faster than any person.
    "CHALLENGE_MODE": "off",
    # gunicorn's access lines on, as under `make dev`: tests read them (off by default,
    # tests/system/test_logging.py says what that leaves out).
    "WEB_ACCESS_LOG": "on",
    # CLI workers started by tests serve their metrics here, not on a developer's 9191.
    "WORKER_METRICS_PORT": str(free_port()),
    # Exports of this namespace's own: another run's erasure would delete this one's files.
    "EXPORT_DIR": str(Path(tempfile.gettempdir()) / f"landing-exports-{VHOST}"),
}

settings = load(ENVIRONMENT)

#: Webhook secrets in Standard Webhooks' form (whsec_ and base64 of random bytes): the
#: current one and, for rotation tests, the previous one.
WEBHOOK_SECRET = "whsec_FmwQVN2X2Tqf6S8ccFWkCQ9N6+35xIlcOnkO4XdsoX0="
WEBHOOK_SECRET_PREVIOUS = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


#: The venv's executables (gunicorn, dramatiq, flask, honcho), first on a child's PATH.
BIN = Path(sys.executable).parent


def child_environment(**changes: str) -> dict[str, str]:
    """os.environ with the tests' settings and the venv's PATH on top, then changes."""
    path = f"{BIN}:{os.environ['PATH']}"
    return {**os.environ, **ENVIRONMENT, "PATH": path, **changes}
