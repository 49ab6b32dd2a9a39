"""The fast tier: no service at all. An app here has every service on a port nothing
listens on, so whatever it tries to reach fails at once, and nothing it does can matter."""

import pytest

from tests.support.config import settings as test_settings
from tests.support.services import free_port


@pytest.fixture
def app():
    """The public app with no service behind it; closed after the test."""
    from landing.app import close_app, create_app

    nowhere = test_settings.replace(
        database_url=f"postgresql://postgres@127.0.0.1:{free_port()}/nowhere",
        rabbitmq_url=f"amqp://guest:guest@127.0.0.1:{free_port()}/%2F",
        redis_url=f"redis://127.0.0.1:{free_port()}/0",
        mongo_url=f"mongodb://127.0.0.1:{free_port()}/nowhere",
        publish_timeout=0.5,
    )
    app = create_app(nowhere)
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()
