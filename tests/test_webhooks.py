"""The webhook: each new registration POSTed, signed, to a local receiver, by a real worker.

The session's workers have no WEBHOOK_URL, so these tests build their own (same vhost and
stores) pointed at a receiver in a thread that fails each delivery's first attempts.
"""

import hashlib
import hmac
import json
import logging
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from dramatiq import Worker
from dramatiq.results import Results

from actors import webhooks
from actors.broker import build_workers
from actors.webhooks import RETRIES, DeliveryFailed, deliver, should_retry
from landing.shared.db import Registration
from landing.shared.signup import WEBHOOK_FIELDS, registration_message, webhook_message
from tests.support.queues import take_all
from tests.support.services import free_port, wait_for
from tests.support.signups import PHONE, dead_letters, signup

SECRET = "test-webhook-secret"


class Receiver(ThreadingHTTPServer):
    """Records every POST; each delivery id's first `failures` attempts answer `status`."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_port}/hooks"
        self.lock = threading.Lock()
        self.reset()

    def reset(self, failures: int = 0, status: int = 500, delay: float = 0.0) -> None:
        self.failures, self.status, self.delay, self.received = failures, status, delay, []

    def answer(self, headers, body: bytes) -> int:
        with self.lock:
            delivery = headers["X-Landing-Delivery"]
            tried = sum(1 for _, h, _ in self.received if h["X-Landing-Delivery"] == delivery)
            code = self.status if tried < self.failures else 200
            self.received.append((code, headers, body))
            return code

    def delivered(self) -> list[tuple[dict, bytes]]:
        with self.lock:
            return [(h, body) for code, h, body in self.received if code == 200]


class Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(self.server.delay)
        code = self.server.answer(self.headers, body)  # looked up case-insensitively
        self.send_response(code)
        if code == 302:
            self.send_header("Location", self.server.url + "/elsewhere")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST  # a followed redirect would show up as a GET

    def log_message(self, *args) -> None:
        pass


@pytest.fixture(scope="module")
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def hook_settings(settings, receiver):
    receiver.reset()
    return settings.replace(webhook_url=receiver.url, webhook_secret=SECRET)


@pytest.fixture(scope="module")
def hook_workers(settings, workers, receiver):
    """Workers with WEBHOOK_URL set, on the session's vhost (whose queues `workers` made)."""
    built = build_workers(settings.replace(webhook_url=receiver.url, webhook_secret=SECRET))
    yield built
    built.forwarder.close()
    built.broker.close()


@pytest.fixture
def hook_worker(hook_workers, hook_settings, clean):
    """A real Dramatiq worker on the webhook workers' broker, stopped after the test."""
    broker = hook_workers.broker
    before = list(broker.middleware)
    running = Worker(broker, worker_threads=2, worker_timeout=100)
    running.start()
    yield running
    running.stop()
    broker.middleware[:] = before  # each Worker adds a middleware of its own


def result_of(broker, signup_sent) -> str:
    backend = next(m.backend for m in broker.middleware if isinstance(m, Results))
    return backend.get_result(registration_message(signup_sent), block=True, timeout=10_000)


def verifies(headers: dict, body: bytes) -> bool:
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["X-Landing-Signature"], expected)


def test_each_new_registration_is_delivered_once_signed(hook_worker, hook_workers, receiver):
    receiver.reset(failures=2)
    sent = [signup("09120000001", referrer="spring"), signup("09120000002", referrer=None)]
    for one in sent:
        hook_workers.broker.enqueue(registration_message(one))
    wait_for(lambda: len(receiver.delivered()) == 2, timeout=20)
    time.sleep(1)  # long enough for a second delivery to show up, were there one
    delivered = receiver.delivered()
    bodies = {json.loads(body)["request_id"]: (headers, body) for headers, body in delivered}
    assert len(delivered) == 2 and set(bodies) == {one.request_id for one in sent}
    for one in sent:
        headers, body = bodies[one.request_id]
        event = json.loads(body)
        assert list(event) == list(WEBHOOK_FIELDS)
        assert event["event"] == "registration.created"
        assert (event["phone"], event["referrer"]) == (one.phone, one.referrer)
        row = Registration.get(Registration.request_id == one.request_id)
        assert event["created_at"] == row.created_at.isoformat(timespec="milliseconds")
        assert headers["Content-Type"] == "application/json" and verifies(headers, body)
        expected_id = webhook_message(one, event["created_at"]).message_id
        assert headers["X-Landing-Delivery"] == expected_id
    # Three attempts per delivery (two failures, then success), all under one delivery id.
    assert len(receiver.received) == 6


def test_a_duplicate_sign_up_is_not_delivered(hook_worker, hook_workers, receiver):
    first, again = signup(PHONE), signup(PHONE)
    hook_workers.broker.enqueue(registration_message(first))
    assert result_of(hook_workers.broker, first) == "registered"
    hook_workers.broker.enqueue(registration_message(again))
    assert result_of(hook_workers.broker, again) == "duplicate"
    wait_for(receiver.delivered, timeout=10)
    time.sleep(1)
    assert [json.loads(body)["request_id"] for _, body in receiver.delivered()] == [
        first.request_id
    ]


def test_a_receiver_always_failing_ends_in_dead_letters_not_the_sign_up(
    hook_worker, hook_workers, receiver
):
    receiver.reset(failures=1_000, status=503)
    sent = signup(PHONE)
    hook_workers.broker.enqueue(registration_message(sent))
    assert result_of(hook_workers.broker, sent) == "registered"
    assert Registration.select().where(Registration.request_id == sent.request_id).count() == 1
    dead = wait_for(lambda: dead_letters("webhooks"), timeout=30)
    assert [message.args[0]["request_id"] for message in dead] == [sent.request_id]
    assert dead[0].options["retries"] == RETRIES
    assert "status 503" in dead[0].options["traceback"]
    assert len(receiver.received) == RETRIES + 1 and not receiver.delivered()


def test_without_a_webhook_url_no_delivery_is_queued(clean, workers, broker):
    assert workers.register(signup().as_message()) == "registered"
    assert take_all(broker, "webhooks") == []


def event_for(one=None) -> tuple[dict, str]:
    message = webhook_message(one or signup(), "2026-12-02T00:00:00.000+00:00")
    return message.args[0], message.message_id


def test_a_redirect_is_a_failure_not_followed(hook_settings, receiver):
    receiver.reset(failures=1, status=302)
    with pytest.raises(DeliveryFailed, match="status 302"):
        deliver(*event_for(), 1, hook_settings)
    assert [code for code, _, _ in receiver.received] == [302]


@pytest.mark.parametrize("where", ["closed-port", "too-slow"])
def test_network_errors_and_timeouts_are_failures(hook_settings, receiver, where):
    if where == "closed-port":
        hook_settings = hook_settings.replace(webhook_url=f"http://127.0.0.1:{free_port()}/")
    else:
        receiver.reset(delay=1.0)
        hook_settings = hook_settings.replace(webhook_timeout=0.2)
    with pytest.raises(DeliveryFailed, match="network error") as caught:
        deliver(*event_for(), 1, hook_settings)
    assert should_retry(0, caught.value, max_retries=RETRIES)
    assert not should_retry(RETRIES, caught.value, max_retries=RETRIES)


def test_logs_name_the_delivery_never_the_phone_or_body(hook_settings, receiver, caplog):
    receiver.reset(failures=1)
    event, delivery_id = event_for(signup(PHONE))
    caplog.set_level(logging.INFO, logger="actors.webhooks")
    with pytest.raises(DeliveryFailed):
        deliver(event, delivery_id, 1, hook_settings)
    deliver(event, delivery_id, 2, hook_settings)
    lines = [record.getMessage() for record in caplog.records]
    assert lines == [
        f"webhook {delivery_id} failed: status 500, attempt 1",
        f"webhook {delivery_id} delivered: status 200, attempt 2",
    ]


def test_a_missing_url_or_malformed_event_goes_straight_to_dead_letters(settings):
    with pytest.raises(DeliveryFailed) as caught:
        deliver(*event_for(), 1, settings)
    assert not should_retry(0, caught.value, max_retries=RETRIES)
    with pytest.raises(KeyError) as malformed:
        deliver({"event": "registration.created"}, "id", 1, settings.replace(webhook_url="x"))
    assert not should_retry(0, malformed.value, max_retries=RETRIES)


@pytest.mark.parametrize(
    ("url", "secret"), [("ftp://example.com/", "s"), ("not a url", "s"), ("https://x/", "")]
)
def test_workers_refuse_a_url_no_delivery_could_use(settings, url, secret):
    with pytest.raises(RuntimeError):
        webhooks.check(settings.replace(webhook_url=url, webhook_secret=secret))


def test_a_redelivered_registration_keeps_its_delivery_id():
    one = signup()
    assert webhook_message(one, "a").message_id == webhook_message(one, "b").message_id
    assert webhook_message(one, "a").message_id != webhook_message(signup(), "a").message_id
