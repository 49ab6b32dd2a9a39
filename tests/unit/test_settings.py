"""Settings: read once from the environment, no secret defaults in production, documented."""

from dataclasses import fields
from pathlib import Path

import pytest

from landing.shared.settings import ALL_SECRETS, SECRETS, Settings, load

ROOT = Path(__file__).resolve().parents[2]


def test_development_defaults_are_localhost():
    settings = load({"APP_ENV": "development"})
    for url in (
        settings.database_url,
        settings.migrate_database_url,
        settings.rabbitmq_url,
        settings.redis_url,
        settings.mongo_url,
    ):
        assert "127.0.0.1" in url


def test_production_unless_development_is_asked_for():
    with pytest.raises(RuntimeError) as caught:
        load({})
    assert "DATABASE_URL" in str(caught.value)


def test_values_are_converted_to_their_types():
    values = {"PUBLISH_TIMEOUT": "1.5", "MAX_RETRIES": "7", "RATE_LIMIT": "5/second"}
    settings = load({"APP_ENV": "development", **values})
    assert (settings.publish_timeout, settings.max_retries, settings.rate_limit) == (
        1.5,
        7,
        "5/second",
    )


def test_production_refuses_to_start_without_its_secrets():
    with pytest.raises(RuntimeError) as caught:
        load({"APP_ENV": "production", "DATABASE_URL": "postgresql://u:p@db/landing"})
    for name in ("RABBITMQ_URL", "REDIS_URL", "MONGO_URL"):
        assert name in str(caught.value)
    assert "u:p" not in str(caught.value)


@pytest.mark.parametrize("process", sorted(SECRETS))
def test_each_process_starts_with_its_own_secrets_and_holds_no_other(process):
    environ = {name: "scheme://user:secret@host/x" for name in SECRETS[process]}
    settings = load({"APP_ENV": "production", **environ}, process=process)
    for name in ALL_SECRETS:
        given = name in SECRETS[process]
        assert getattr(settings, name.lower()) == environ.get(name, ""), (name, given)


@pytest.mark.parametrize("document", [".env.example", "README.md"])
def test_every_setting_is_documented(document):
    text = (ROOT / document).read_text()
    for field in fields(Settings):
        assert field.name.upper() in text, f"{field.name.upper()} missing from {document}"
