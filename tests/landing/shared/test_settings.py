"""Settings: read once from the environment, no secret defaults in production, documented."""

import re
from dataclasses import MISSING, fields
from pathlib import Path

import pytest

from landing.ops import settings_doc
from landing.shared.settings import ALL_SECRETS, SECRETS, Settings, load

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


ROOT = Path(__file__).resolve().parents[3]


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


def test_every_setting_says_what_it_means():
    for entry in fields(Settings):
        assert entry.metadata.get("doc", "").strip(), f"{entry.name}: give it a doc in settings.py"


def test_settings_page_is_written_from_settings():
    assert (ROOT / "docs" / "settings.md").read_text() == settings_doc.markdown(), (
        "docs/settings.md differs from Settings: run python -m landing.ops.settings_doc"
    )


def test_env_example_is_written_from_settings():
    text = (ROOT / ".env.example").read_text()
    assert text == settings_doc.env_example(text), (
        ".env.example differs from Settings: run python -m landing.ops.settings_doc"
    )


def test_env_example_lists_every_setting_once_with_its_default():
    assigned = re.findall(r"^(\w+)=(.*)$", (ROOT / ".env.example").read_text(), re.M)
    names = [name for name, _ in assigned]
    values = dict(assigned)
    for entry in fields(Settings):
        name = entry.name.upper()
        assert names.count(name) == 1, f"{name} in .env.example {names.count(name)} times"
        default = "" if entry.default is MISSING else str(entry.default)
        assert values[name] == entry.metadata.get("example", default), name
    # What .env.example gives differently is what `make dev` and compose need: development,
    # and the secrets compose must be given left empty.
    given = {name: values[name] for name in (f.name.upper() for f in fields(Settings))}
    assert given["APP_ENV"] == "development"
    for name in ("LIMIT_KEY_SECRET", "ERASURE_SECRET", "CHALLENGE_SECRET", "DASHBOARD_PASSWORD"):
        assert given[name] == "", name
    # .env.example read as the development environment it is loads without complaint.
    assert load(given).app_env == "development"


def test_the_check_mode_finds_a_stale_page(tmp_path, monkeypatch):
    stale = tmp_path / "settings.md"
    stale.write_text(settings_doc.markdown().replace("`20/minute`", "`10/minute`"))
    monkeypatch.setattr(settings_doc, "MARKDOWN", stale)
    monkeypatch.setattr(settings_doc, "ROOT", tmp_path)
    env = tmp_path / ".env.example"
    env.write_text((ROOT / ".env.example").read_text().replace("RATE_LIMIT=20/", "RATE_LIMIT=9/"))
    monkeypatch.setattr(settings_doc, "ENV_EXAMPLE", env)
    assert settings_doc.main(["--check"]) == 1
    assert "20/minute" not in stale.read_text(), "--check must change nothing"
    assert settings_doc.main([]) == 0
    assert stale.read_text() == settings_doc.markdown()
    assert "RATE_LIMIT=20/minute" in env.read_text()
