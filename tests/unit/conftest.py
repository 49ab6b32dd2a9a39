"""The fast tier: no service, but for the admission script's tests (test_admission_gate.py),
which run it on the tests' own Redis db. An app here has every service on a port nothing
listens on, so whatever it tries to reach fails at once, and nothing it does can matter."""

import pytest

from harness.local import free_port
from tests.support.config import settings as test_settings


@pytest.fixture
def make_app():
    """create_app with no service behind it and some settings changed; each closed after."""
    from landing.app import close_app, create_app

    made = []

    def make(**changes):
        nowhere = test_settings.replace(
            database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
            rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
            redis_url=f"redis://127.0.0.1:{free_port()}/0",
            mongo_url=f"mongodb://127.0.0.1:{free_port()}/nowhere",
            publish_timeout=0.5,
        )
        made.append(create_app(nowhere.replace(**changes)))
        return made[-1]

    yield make
    for app in made:
        close_app(app)


@pytest.fixture
def app(make_app):
    """The public app with no service behind it; closed after the test."""
    return make_app()


@pytest.fixture
def client(app):
    return app.test_client()
