"""Failed logins to the dashboard: logged (address only) and limited per address.

Five failures within a minute from one address lock that address out for a minute: a 429
with Retry-After, even with the right password. Other addresses are not affected.
"""

import logging

import pytest
from werkzeug.test import Client

from landing.ops.dashboard import BasicAuth, FailedLogins, create_dashboard
from tests.support.config import settings
from tests.support.dashboard import AUTH, basic, management_api

TRIED = basic("mallory-user", "hunter2-tried")  # neither may ever reach a log line


@pytest.fixture(scope="module")
def management():
    return management_api()


def at(address: str) -> dict[str, dict[str, str]]:
    return {"environ_overrides": {"REMOTE_ADDR": address}}


def test_five_failures_lock_that_address_out_and_no_other(management, caplog):
    client = Client(create_dashboard(settings))
    with caplog.at_level(logging.WARNING, logger="landing.ops.dashboard"):
        for _ in range(5):
            assert client.get("/dashboard/", headers=TRIED, **at("10.0.0.1")).status_code == 401
        for headers in (AUTH, TRIED, {}):
            limited = client.get("/dashboard/", headers=headers, **at("10.0.0.1"))
            assert limited.status_code == 429
            assert limited.json["error"] == "rate_limited" and limited.json["message"]
            assert 50 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/dashboard/", headers=AUTH, **at("10.0.0.2")).status_code == 200

    failed = [r for r in caplog.records if "failed login" in r.getMessage()]
    assert len(failed) == 5 and all(r.levelno == logging.WARNING for r in failed)
    assert all("from 10.0.0.1 " in r.getMessage() for r in failed)
    assert "locked out" in caplog.text
    assert "hunter2" not in caplog.text and "mallory" not in caplog.text


def test_a_request_without_credentials_is_not_a_failed_login(management, caplog):
    client = Client(create_dashboard(settings))
    with caplog.at_level(logging.WARNING, logger="landing.ops.dashboard"):
        for _ in range(10):  # a browser's first request, before it asks for a password
            assert client.get("/dashboard/", **at("10.0.0.3")).status_code == 401
    assert client.get("/dashboard/", headers=AUTH, **at("10.0.0.3")).status_code == 200
    assert "failed login" not in caplog.text


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def ok(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"in"]


def test_the_lock_out_ends_when_the_window_passes_and_failures_age_out():
    clock = Clock()
    client = Client(BasicAuth(ok, "admin", "admin", FailedLogins(clock=clock)))
    for _ in range(4):
        assert client.get("/", headers=TRIED).status_code == 401
        clock.now += 20  # spread over 80 s: never five within a minute
    assert client.get("/", headers=TRIED).status_code == 401
    assert client.get("/", headers=AUTH).status_code == 200

    for _ in range(2):  # the last three are still within the minute: now five
        assert client.get("/", headers=TRIED).status_code == 401
    assert client.get("/", headers=AUTH).status_code == 429
    clock.now += 59.5
    assert client.get("/", headers=AUTH).headers["Retry-After"] == "1"
    clock.now += 0.5
    assert client.get("/", headers=AUTH).status_code == 200


def test_the_table_of_addresses_stays_small():
    failures = FailedLogins(limit=3, capacity=100)
    for number in range(10_000):
        failures.record(f"10.1.{number // 256}.{number % 256}")
        failures.record("10.9.9.9")  # one address that keeps failing is kept, and locked
    assert len(failures._failures) <= 100 and len(failures._locked) <= 100
    assert failures.retry_after("10.9.9.9") is not None
