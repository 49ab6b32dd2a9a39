"""/ready answers in bounded time whatever hangs, under gunicorn's gevent workers too."""

import json
import socket
import threading
import time
from contextlib import contextmanager

import psycopg2

from landing.ops.health import PROBE_TIMEOUT, Readiness
from tests.support.processes import http, running_gunicorn
from tests.support.services import wait_for


@contextmanager
def silent_postgresql():
    """A socket that accepts connections and never says a word: a hung PostgreSQL."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"postgresql://postgres@127.0.0.1:{listener.getsockname()[1]}/hung"


def test_a_hung_postgresql_neither_holds_ready_nor_freezes_the_worker(clean, tmp_path):
    with (
        silent_postgresql() as url,
        running_gunicorn(tmp_path, "--workers", "1", env={"DATABASE_URL": url}) as web,
    ):
        answers = {}

        def ready():
            started = time.monotonic()
            answers["ready"] = http(f"{web.url}/ready")
            answers["ready_s"] = time.monotonic() - started

        probe = threading.Thread(target=ready)
        probe.start()
        time.sleep(0.2)  # /ready is waiting on PostgreSQL now
        started = time.monotonic()
        status, _, _ = http(f"{web.url}/health")
        health_s = time.monotonic() - started
        probe.join(timeout=10)
        wait_for(lambda: "ready" in answers)
    assert status == 200 and health_s < 1.0  # the one worker's loop stayed free
    ready_status, _, text = answers["ready"]
    assert ready_status == 503
    checks = json.loads(text)["checks"]
    assert checks == {
        "postgresql": "error: Timeout",
        "redis": "ok",
        "rabbitmq": "ok",
        "mongodb": "ok",
    }
    assert answers["ready_s"] < 5.0


def test_ready_under_gunicorn_is_ok_when_every_service_answers(clean, tmp_path):
    with running_gunicorn(tmp_path, "--workers", "1") as web:
        status, _, text = http(f"{web.url}/ready")
    assert (status, json.loads(text)["status"]) == (200, "ok"), text


def test_ready_answers_within_its_bound_when_postgresql_hangs():
    with silent_postgresql() as url:
        readiness = Readiness({"postgresql": lambda: psycopg2.connect(url, connect_timeout=5)})
        started = time.monotonic()
        first = readiness.check()
        elapsed = time.monotonic() - started
        again = readiness.check()  # within the cache: answered at once, nothing started
    assert first == again == {"postgresql": "error: Timeout"}
    assert elapsed < PROBE_TIMEOUT + 1.0
