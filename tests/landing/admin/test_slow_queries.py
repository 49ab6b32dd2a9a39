"""A slow operator query neither holds sign-ups nor runs past ADMIN_STATEMENT_TIMEOUT_MS.

The operator's query is made slow for real: another connection holds registrations in
ACCESS EXCLUSIVE mode, so every read of it waits on the lock until the statement timeout.
"""

import json
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import psycopg2
import pytest

from tests.support.admin import AUTH, DIGEST, seed
from tests.support.processes import http, running_gunicorn
from tests.support.services import wait_for

HELD_MS = 3_000  # the timeout the locked query runs into: ~3 s held, then cancelled
FAST = 0.5  # seconds a sign-up may take while the operator's query is held
LOCK_AT_MOST = 10  # seconds
UNLIMITED = {"RATE_LIMIT": "100000/minute"}  # every sign-up comes from 127.0.0.1
WAITING_ON_LOCK = (
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    " AND wait_event_type = 'Lock' AND query LIKE '%FROM registrations%'"
)


@contextmanager
def registrations_locked(owner_url: str):
    """registrations locked by a transaction of its own, released when the block ends."""
    conn = psycopg2.connect(owner_url)
    try:
        with conn.cursor() as cursor:
            # Ended by PostgreSQL after LOCK_AT_MOST anyway: a query with no timeout (under
            # the test client, in this very thread) then fails the test instead of hanging it.
            cursor.execute(f"SET idle_in_transaction_session_timeout = '{LOCK_AT_MOST}s'")
            cursor.execute("LOCK TABLE registrations IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        conn.close()


def waiting_on_lock(owner) -> int:
    with owner.cursor() as cursor:
        cursor.execute(WAITING_ON_LOCK)
        return cursor.fetchone()[0]


def sign_up(url: str, n: int) -> tuple[int | None, float]:
    """(status or None if no answer came within 2 s, seconds) of one sign-up."""
    body = json.dumps({"phone": f"0935{n:07d}"}).encode()
    request = urllib.request.Request(
        f"{url}/api/register/", data=body, headers={"Content-Type": "application/json"}
    )
    started = time.monotonic()
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except TimeoutError:
        status = None
    return status, time.monotonic() - started


def sign_ups_while(url: str, busy: threading.Thread, limit: float) -> list[tuple]:
    """Sign-ups POSTed one after another while busy runs (limit seconds at most)."""
    deadline, signups = time.monotonic() + limit, []
    while busy.is_alive() and time.monotonic() < deadline:
        signups.append(sign_up(url, len(signups)))
    return signups


def test_sign_ups_are_answered_while_an_operator_query_is_held(settings, clean, owner, tmp_path):
    env = {"ADMIN_TOKENS": DIGEST, "ADMIN_STATEMENT_TIMEOUT_MS": str(HELD_MS)}
    # One process: the operator's request and the sign-ups share one gevent loop.
    with running_gunicorn(tmp_path, "--workers", "1", env=env | UNLIMITED) as web:
        answer = {}

        def operator():
            started = time.monotonic()
            answer["response"] = http(f"{web.url}/api/admin/stats", headers=AUTH)
            answer["seconds"] = time.monotonic() - started

        with registrations_locked(settings.migrate_database_url):
            asking = threading.Thread(target=operator)
            asking.start()
            wait_for(lambda: waiting_on_lock(owner))
            signups = sign_ups_while(web.url, asking, HELD_MS / 1000 + 3)
            asking.join(timeout=10)

    slow = [(status, round(took, 2)) for status, took in signups if status != 202 or took >= FAST]
    assert not slow, f"{len(slow)} of {len(signups)} sign-ups refused or slow: {slow[:5]}"
    assert len(signups) >= 5  # the hold lasted long enough to test something
    status, _, text = answer["response"]
    assert (status, json.loads(text)["error"]) == (503, "unavailable"), text
    assert "ADMIN_STATEMENT_TIMEOUT_MS" in json.loads(text)["message"]
    assert HELD_MS / 1000 - 0.5 < answer["seconds"] < HELD_MS / 1000 + 3


@pytest.mark.parametrize("path", ["/api/admin/stats", "/api/admin/registrations"])
def test_a_query_past_the_statement_timeout_is_a_json_503(settings, clean, make_app, path):
    api = make_app(admin_tokens=DIGEST, admin_statement_timeout_ms=200).test_client()
    with registrations_locked(settings.migrate_database_url):
        started = time.monotonic()
        answer = api.get(path, headers=AUTH)
        seconds = time.monotonic() - started
    assert answer.status_code == 503
    assert answer.json["error"] == "unavailable"
    assert "200 ms" in answer.json["message"]
    assert seconds < 3


def statement_timeout(database) -> str:
    with database.connection_context():
        return database.execute_sql("SHOW statement_timeout").fetchone()[0]


def test_the_api_reads_under_the_timeout_and_the_cli_without(clean, make_app, owner):
    seed(owner, 3)
    app = make_app(admin_tokens=DIGEST, admin_statement_timeout_ms=1234)
    assert app.extensions["admin_queries"].run(statement_timeout) == "1234ms"
    assert statement_timeout(app.extensions["admin_reads"]) == "0"
    answer = app.test_client().get("/api/admin/stats", headers=AUTH)
    assert answer.status_code == 200 and answer.json["total"] == 3
