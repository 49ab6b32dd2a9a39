"""The per-phone counter's key: a keyed hash of the number, which only the secret gives."""

import hashlib

import pytest

from landing.admission.keys import PhoneKeys
from landing.shared.settings import load

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


PHONE = "09123456789"


def test_the_key_depends_on_the_secret_and_is_no_plain_hash():
    key = PhoneKeys("one secret")(PHONE)
    assert key == PhoneKeys("one secret")(PHONE)
    assert key != PhoneKeys("another secret")(PHONE)
    assert key != PhoneKeys("one secret")("09123456788")
    assert key.startswith("phone/") and len(key) == len("phone/") + 32
    assert PHONE not in key
    assert hashlib.sha256(PHONE.encode()).hexdigest()[:32] not in key


def test_an_empty_secret_is_refused():
    with pytest.raises(ValueError, match="LIMIT_KEY_SECRET"):
        PhoneKeys("")


@pytest.mark.parametrize("process", ["web", "migrate"])
def test_production_web_and_migrate_need_the_secret(process):
    stores = {
        name: "scheme://user:secret@host/x"
        for name in ("DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "MONGO_URL")
    }
    stores["MIGRATE_DATABASE_URL"] = "postgresql://owner:secret@host/landing"
    stores["ERASURE_SECRET"] = "e"
    stores["CHALLENGE_SECRET"] = "c"
    with pytest.raises(RuntimeError, match="LIMIT_KEY_SECRET"):
        load({"APP_ENV": "production", **stores}, process=process)
    given = load({"APP_ENV": "production", **stores, "LIMIT_KEY_SECRET": "k"}, process=process)
    assert given.limit_key_secret == "k"


def test_development_has_a_key_and_a_worker_needs_none():
    assert load({"APP_ENV": "development"}).limit_key_secret
    stores = {
        name: "scheme://user:secret@host/x"
        for name in ("DATABASE_URL", "RABBITMQ_URL", "REDIS_URL", "MONGO_URL")
    }
    worker = load({"APP_ENV": "production", **stores, "ERASURE_SECRET": "e"}, process="worker")
    assert worker.limit_key_secret == ""
