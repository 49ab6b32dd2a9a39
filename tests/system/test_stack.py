"""The production stack for real: nginx (our nginx.conf) -> gunicorn (gunicorn.conf.py) ->
RabbitMQ -> a `dramatiq actors.worker` worker -> PostgreSQL.

Each test talks to nginx from its own loopback address (127.0.0.x), so nginx's per-address
limit and the app's see different clients and the tests can't throttle each other.
"""

import json
import subprocess

import pytest
import redis

from harness.door import nginx_binary, nginx_command, render_nginx
from harness.local import free_port
from landing.shared.db import Registration
from tests.support.door import (
    GUNICORN,
    Stack,
    serving,
    start,
)
from tests.support.processes import WORKER
from tests.support.services import wait_for

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def plain_listen(port: int) -> str:
    return f"listen 127.0.0.1:{port};\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory, database, broker, mongo_server):
    folder = tmp_path_factory.mktemp("stack")
    web_port, port = free_port(), free_port()
    config = render_nginx(folder, web_port, plain_listen(port))
    processes = [
        start(
            GUNICORN,
            folder / "gunicorn.log",
            WEB_BIND=f"127.0.0.1:{web_port}",
            WEB_WORKERS="2",
            # The app's own limit stays out of the way: these tests are about nginx's.
            RATE_LIMIT="100000/minute",
        ),
        start(
            [*WORKER, "--processes", "1", "--threads", "2"],
            folder / "worker.log",
        ),
        start(nginx_command(config), folder / "nginx.log"),
    ]
    running = Stack(port, folder / "gunicorn.log", folder / "nginx.log")

    with serving(
        processes, lambda: running.request("GET", "/health", client="127.0.0.1").status == 200
    ):
        yield running


def test_nginx_t_accepts_the_config(tmp_path):
    config = render_nginx(tmp_path, free_port(), plain_listen(free_port()))
    result = subprocess.run(
        [nginx_binary(), "-t", "-p", str(tmp_path), "-c", str(config)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr


def test_sign_up_through_nginx_reaches_postgres(stack, clean):
    response = stack.register("0912 555 0101", client="127.0.0.2")
    assert response.status == 202, response.body
    request_id = response.json["request_id"]
    row = wait_for(
        lambda: Registration.get_or_none(Registration.request_id == request_id), timeout=30
    )
    assert row.phone == "09125550101"
    assert str(row.ip_address) == "127.0.0.2"
    assert len(response.headers.get_all("X-Request-ID")) == 1
    assert len(response.headers["X-Request-ID"]) == 32  # nginx's $request_id


def test_headers_carry_no_version_and_the_security_set(stack, clean):
    for response in (
        stack.request("GET", "/health"),
        stack.register("0912 555 0102", client="127.0.0.3"),
        stack.request("GET", "/nowhere"),
    ):
        assert response.headers["Server"] == "nginx"
        assert "X-Powered-By" not in response.headers
        for name, value in SECURITY_HEADERS.items():
            assert response.headers[name] == value
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        # HSTS only over TLS (tests/landing/test_public_door.py): this stack is plain HTTP.
        assert "Strict-Transport-Security" not in response.headers


def test_forged_forwarded_for_changes_neither_client_ip_nor_rate_limit_key(stack, clean):
    from tests.support.config import settings

    forged = "203.0.113.9"
    response = stack.register(
        "0912 555 0103", client="127.0.0.4", headers={"X-Forwarded-For": forged}
    )
    assert response.status == 202
    request_id = response.json["request_id"]
    row = wait_for(
        lambda: Registration.get_or_none(Registration.request_id == request_id), timeout=30
    )
    assert str(row.ip_address) == "127.0.0.4"
    keys = [key.decode() for key in redis.Redis.from_url(settings.redis_url).keys("LIMITS*")]
    assert any("127.0.0.4" in key for key in keys), keys
    assert not any(forged in key for key in keys), keys


def test_nginx_limit_answers_json_429_before_the_app(stack, clean):
    answers = [stack.register(f"0912 556 {n:04d}", client="127.0.0.5") for n in range(40)]
    limited = [answer for answer in answers if answer.status == 429]
    accepted = [answer for answer in answers if answer.status == 202]
    assert limited and accepted and len(limited) + len(accepted) == 40
    assert limited[0].json == {
        "error": "rate_limited",
        "message": "Too many requests; try again shortly.",
    }
    assert limited[0].headers["Content-Type"].startswith("application/json")
    assert limited[0].headers["Retry-After"] == "1"
    assert limited[0].headers["X-Content-Type-Options"] == "nosniff"
    # nginx answered the 429s itself: gunicorn logged only the accepted requests.
    limited_ids = {answer.headers["X-Request-ID"] for answer in limited}
    accepted_ids = {answer.headers["X-Request-ID"] for answer in accepted}

    def app_ids():
        # gunicorn writes a request's access line just after its answer: wait for the last.
        ids = {
            json.loads(line)["request_id"]
            for line in stack.gunicorn_log.read_text().splitlines()
            if line.startswith("{") and '"gunicorn.access"' in line
        }
        return ids if accepted_ids <= ids else None

    assert not limited_ids & wait_for(app_ids)


def test_large_body_is_refused_as_json_413(stack, clean):
    body = json.dumps({"phone": "09125550104", "referrer": "x" * 5120})
    response = stack.request("POST", "/api/register/", body, client="127.0.0.6")
    assert response.status == 413
    assert response.json == {"error": "too_large", "message": "Request body too large."}
    # Its number is nowhere (an earlier test's accepted sign-ups may still be landing).
    assert Registration.get_or_none(Registration.phone == "09125550104") is None


def test_only_the_api_and_health_are_proxied(stack, clean):
    # /ready tells operators and compose which store is down: for them, on gunicorn's port.
    for path in ("/metrics", "/dashboard/", "/", "/ready"):
        response = stack.request("GET", path, client="127.0.0.7")
        assert response.status == 404, path
        assert response.json == {"error": "not_found", "message": "No such page."}
    assert stack.request("GET", "/health", client="127.0.0.7").status == 200
    paths = [
        json.loads(line)["path"]
        for line in stack.gunicorn_log.read_text().splitlines()
        if '"gunicorn.access"' in line
    ]
    assert "/ready" not in paths


def test_access_logs_are_json_without_client_addresses(stack, clean):
    stack.register("0912 555 0105", client="127.0.0.8")
    lines = [line for line in stack.nginx_log.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert any(r["path"] == "/api/register/" and r["status"] == 202 for r in records)
    assert all(r["client_network"] in ("127.0.0.0", "-") for r in records)
    assert "127.0.0.8" not in stack.nginx_log.read_text()
    assert "09125550105" not in stack.gunicorn_log.read_text()
