"""Logs: JSON lines with a request_id, from the web (Flask, gunicorn) and the workers; no
phone number in any of them, not even in a traceback."""

import io
import json
import logging
import uuid
from contextlib import contextmanager

from landing.shared.json_logs import REQUEST_ID, JsonFormatter
from tests.support.processes import (
    answers,
    attempt,
    enqueue_registration,
    http,
    listen_port,
    running_gunicorn,
    running_worker,
)
from tests.support.services import wait_for

PHONE = "09121234567"
MASKED = "0912***4567"
FIELDS = {"time", "level", "logger", "message", "request_id"}


@contextmanager
def json_logs():
    """What the root logger writes through the JSON formatter, as a StringIO."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logging.getLogger().addHandler(handler)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)


def lines_of(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


def test_web_error_is_one_json_line_with_request_id_and_traceback_but_no_phone(app):
    def fail():
        raise RuntimeError(f"could not store {PHONE}")

    app.add_url_rule("/fail", view_func=fail)
    nginx_id = uuid.uuid4().hex  # nginx's $request_id: 32 hex digits
    with json_logs() as output:
        response = app.test_client().get("/fail", headers={"X-Request-ID": nginx_id})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == nginx_id
    [line] = [line for line in lines_of(output.getvalue()) if line["level"] == "ERROR"]
    assert set(line) >= FIELDS and line["logger"] == "landing.errors"
    assert line["request_id"] == nginx_id
    assert line["exc_info"].startswith("Traceback") and "RuntimeError" in line["exc_info"]
    assert MASKED in line["exc_info"]
    assert PHONE not in output.getvalue()


def test_every_request_gets_an_id_and_odd_ones_are_replaced(client):
    first = client.get("/health").headers["X-Request-ID"]
    second = client.get("/health").headers["X-Request-ID"]
    assert first != second and len(first) == 32 and uuid.UUID(first)
    assert client.get("/health", headers={"X-Request-ID": "req-42"}).headers["X-Request-ID"] == (
        "req-42"
    )
    odd = client.get("/health", headers={"X-Request-ID": '"}, {"level": "x'})
    assert len(odd.headers["X-Request-ID"]) == 32 and uuid.UUID(odd.headers["X-Request-ID"])


def test_every_answer_carries_one_id_and_the_log_context_is_cleared_after(client):
    # Answers no view made (a wrong method, a body too large, a static file) carry it too.
    answers = [
        client.put("/api/register/"),
        client.post("/api/register/", data="x" * (2 << 20), content_type="application/json"),
        client.get("/"),
    ]
    assert [answer.status_code for answer in answers] == [405, 413, 200]
    for answer in answers:
        assert len(answer.headers.getlist("X-Request-ID")) == 1
    assert REQUEST_ID.get() is None  # the next request on this thread starts without one


def test_an_id_the_app_set_itself_is_replaced_by_the_requests(app):
    app.add_url_rule("/own", view_func=lambda: ("", 204, {"X-Request-ID": "the-views"}))
    answer = app.test_client().get("/own", headers={"X-Request-ID": "req-7"})
    assert answer.headers.getlist("X-Request-ID") == ["req-7"]


def test_json_lines_name_messages_by_id_and_mask_phones_whoever_logs(broker):
    from tests.support.signups import message_carrying

    body = attempt(PHONE)
    message = message_carrying(body)
    with json_logs() as output:
        logging.getLogger("anywhere").warning("could not handle %s", message)
        logging.getLogger("anywhere").warning("caller %s", "+989121234567")
    first, second = lines_of(output.getvalue())
    assert first["message"] == f"could not handle register[{body['request_id']}]"
    assert second["message"].endswith("***4567")
    assert "9121234567" not in output.getvalue()


def test_gunicorn_writes_json_lines_a_refused_registration_has_its_ids(clean, tmp_path):
    # RabbitMQ unreachable, so the app logs the registration it has to refuse.
    dead_broker = f"amqp://guest:guest@127.0.0.1:{listen_port()}/%2F"
    with running_gunicorn(tmp_path, "--workers", "1", env={"RABBITMQ_URL": dead_broker}) as web:
        request_id = str(uuid.uuid4())
        status, headers, _ = http(
            f"{web.url}/api/register/",
            {"phone": PHONE, "request_id": request_id},
            {"X-Request-ID": request_id},
        )
        assert status == 503 and headers["X-Request-ID"] == request_id

        def refused():
            lines = lines_of(web.errors.read_text())
            return [line for line in lines if line["logger"] == "landing.signups"]

        [line] = wait_for(refused)
        assert line["level"] == "WARNING" and line["request_id"] == request_id
        assert request_id in line["message"]
        assert web.stop() == 0
    errors = lines_of(web.errors.read_text())
    assert all(set(line) >= FIELDS for line in errors)
    assert any(line["message"].startswith("Booting worker") for line in errors)
    access = lines_of(web.output.read_text())
    [post] = [line for line in access if line["path"] == "/api/register/"]
    assert post["logger"] == "gunicorn.access" and post["request_id"] == request_id
    assert PHONE not in web.errors.read_text() + web.output.read_text()


def test_without_web_access_log_gunicorn_writes_no_access_line(clean, tmp_path):
    """The default behind nginx, which logs every request itself: errors are still logged."""
    with running_gunicorn(tmp_path, "--workers", "1", env={"WEB_ACCESS_LOG": "off"}) as web:
        status, _, _ = http(f"{web.url}/api/register/", {"phone": PHONE})
        assert status == 202
        assert http(f"{web.url}/nowhere")[0] == 404
        assert web.stop() == 0
    written = lines_of(web.output.read_text()) + lines_of(web.errors.read_text())
    assert not [line for line in written if line.get("logger") == "gunicorn.access"]
    assert any(
        line["message"].startswith("Booting worker") for line in lines_of(web.errors.read_text())
    )


def test_cli_worker_writes_json_lines_with_the_sign_ups_request_id(clean, tmp_path, broker):
    # Stored, then the attempt log chokes on its received_at, which quotes the phone number.
    body = attempt(PHONE, received_at=f"at {PHONE}")
    with running_worker(tmp_path, processes=1) as worker:
        wait_for(lambda: answers(worker.url), timeout=30)
        enqueue_registration(broker, body)

        def failure():
            for line in worker.output.read_text().splitlines():
                if line.startswith("{") and "log_attempt[" in line:
                    return json.loads(line)
            return None

        line = wait_for(failure, timeout=30)
        assert worker.stop() == 0
    assert line["level"] == "ERROR" and line["request_id"] == body["request_id"]
    assert "ValueError" in line["exc_info"] and MASKED in line["exc_info"]
    text = worker.output.read_text()
    assert PHONE not in text
    for raw in text.splitlines():
        if not raw.startswith("{"):  # only the master's own lines stay dramatiq's text
            assert "[dramatiq.MainProcess]" in raw or "[dramatiq.ForkProcess" in raw, raw
        else:
            assert set(json.loads(raw)) >= FIELDS
