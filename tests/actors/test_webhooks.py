"""The webhook: each new registration POSTed, signed, to a local receiver, by a real worker.

The session's workers have no WEBHOOK_URL, so these tests build their own (same vhost and
stores) pointed at a receiver in a thread that fails each delivery's first attempts. Every
delivery is checked as a receiver would check it: with standardwebhooks' Webhook.verify.
"""

import json
import logging
import socket
import threading
import time

import pytest
from dramatiq.results import Results
from standardwebhooks import Webhook, WebhookVerificationError

from actors import webhooks
from actors.broker import build_workers
from actors.retries import RetryPolicy
from actors.webhooks import RETRIES, DeliveryFailed, Undeliverable, deliver
from harness.local import free_port
from landing.shared.db import Registration
from landing.shared.signup import (
    ATTEMPTS,
    EXPORTS,
    REGISTRATIONS,
    WEBHOOK_FIELDS,
    WEBHOOKS,
    registration_message,
    webhook_message,
)
from tests.support.config import WEBHOOK_SECRET as SECRET
from tests.support.config import WEBHOOK_SECRET_PREVIOUS as PREVIOUS
from tests.support.processes import running_worker
from tests.support.queues import take_all
from tests.support.services import wait_for
from tests.support.signups import PHONE, dead_letters, signup
from tests.support.workers import in_process_worker

should_retry = RetryPolicy(RETRIES)  # as deliver_webhook is declared (test_retries checks)


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
    with in_process_worker(hook_workers.broker) as running:
        yield running


def result_of(broker, signup_sent) -> str:
    backend = next(m.backend for m in broker.middleware if isinstance(m, Results))
    return backend.get_result(registration_message(signup_sent), block=True, timeout=10_000)


def verified(headers, body: bytes, secret: str = SECRET) -> dict:
    """The event, as a receiver holding secret gets it; WebhookVerificationError if not."""
    return Webhook(secret).verify(body, dict(headers))


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
        assert headers["Content-Type"] == "application/json"
        assert verified(headers, body) == event
        expected_id = webhook_message(one, event["created_at"]).message_id
        assert headers["webhook-id"] == expected_id
        assert "X-Landing-Signature" not in headers and "X-Landing-Delivery" not in headers
    # Three attempts per delivery (two failures, then success), all under one delivery id,
    # each signed at its own time.
    assert len(receiver.received) == 6
    for one in sent:
        attempts = [
            h for _, h, b in receiver.received if json.loads(b)["request_id"] == one.request_id
        ]
        assert len({h["webhook-id"] for h in attempts}) == 1
        stamps = [int(h["webhook-timestamp"]) for h in attempts]
        assert stamps == sorted(stamps) and abs(stamps[-1] - time.time()) < 60


def test_during_a_rotation_either_secret_verifies_and_tampering_never(hook_settings, receiver):
    rotating = hook_settings.replace(webhook_secret_previous=PREVIOUS)
    event, delivery_id = event_for()
    deliver(event, delivery_id, 1, rotating)
    [(headers, body)] = receiver.delivered()
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, PREVIOUS):  # receivers not yet moved on, and those already moved
        assert verified(headers, body, secret)["request_id"] == event["request_id"]
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        verified(headers, body.replace(event["phone"].encode(), b"09350000000"))
    replayed = {**dict(headers), "webhook-timestamp": str(int(time.time()) - 600)}
    with pytest.raises(WebhookVerificationError, match="too old"):
        verified(replayed, body)
    with pytest.raises(WebhookVerificationError):
        verified(headers, body, "whsec_" + "QUJD" * 8)  # a secret it was never signed with


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
    assert should_retry(0, caught.value)
    assert not should_retry(RETRIES, caught.value)


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
    with pytest.raises(Undeliverable) as caught:
        deliver(*event_for(), 1, settings)
    assert not should_retry(0, caught.value)
    with pytest.raises(KeyError) as malformed:
        deliver({"event": "registration.created"}, "id", 1, settings.replace(webhook_url="x"))
    assert not should_retry(0, malformed.value)


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("ftp://example.com/", SECRET),
        ("not a url", SECRET),
        ("https://x/", ""),
        ("https://x/", "s"),
    ],
)
def test_workers_refuse_a_url_no_delivery_could_use(settings, url, secret):
    with pytest.raises(RuntimeError):
        webhooks.check(settings.replace(webhook_url=url, webhook_secret=secret))


def test_a_redelivered_registration_keeps_its_delivery_id():
    one = signup()
    assert webhook_message(one, "a").message_id == webhook_message(one, "b").message_id
    assert webhook_message(one, "a").message_id != webhook_message(signup(), "a").message_id


class TricklingReceiver:
    """Takes each delivery and answers it a byte every 0.2 s: each byte well within any
    per-read timeout, the whole answer (7.6 s) well past WEBHOOK_TIMEOUT. Records how long
    each connection stayed open, until the sender cut it."""

    ANSWER = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}/hooks"
        self.lock = threading.Lock()
        self.open, self.held = 0, []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self.trickle, args=(conn,), daemon=True).start()

    def trickle(self, conn: socket.socket) -> None:
        started = time.monotonic()
        with self.lock:
            self.open += 1
        with conn:
            conn.recv(65536)  # http.client sends a small request in one piece
            conn.settimeout(0.2)
            for byte in self.ANSWER:
                if self.cut(conn, byte):
                    break
        with self.lock:
            self.open -= 1
            self.held.append(time.monotonic() - started)

    @staticmethod
    def cut(conn: socket.socket, byte: int) -> bool:
        """Send one byte, then wait 0.2 s: True once the sender has hung up."""
        try:
            conn.sendall(bytes([byte]))
            return conn.recv(1) == b""
        except TimeoutError:
            return False
        except OSError:
            return True

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def trickling():
    receiver = TricklingReceiver()
    yield receiver
    receiver.close()


def test_a_stalling_receiver_never_delays_a_sign_up(clean, broker, tmp_path, trickling):
    """Real CLI workers, as the Procfile splits them: while every webhooks thread is stuck
    on a receiver that trickles its answer, sign-ups are stored at once; each stuck delivery
    is cut at WEBHOOK_TIMEOUT in all, though no single read ever waited that long."""
    hooked = {"WEBHOOK_URL": trickling.url, "WEBHOOK_SECRET": SECRET, "WEBHOOK_TIMEOUT": "4"}
    main = (REGISTRATIONS, ATTEMPTS, EXPORTS)
    with (
        running_worker(tmp_path, 1, queues=main, env=hooked),
        running_worker(tmp_path, 1, queues=(WEBHOOKS,), env=hooked),
    ):
        first = [signup(f"0912000000{n}") for n in range(2)]
        for one in first:
            broker.enqueue(registration_message(one))
        wait_for(lambda: stored(first), timeout=60)  # the workers' start-up included
        wait_for(lambda: trickling.open >= 2, timeout=30)  # both webhooks threads now stuck

        later = [signup(f"0912000001{n}") for n in range(5)]
        sent_at = time.monotonic()
        for one in later:
            broker.enqueue(registration_message(one))
        wait_for(lambda: stored(later), timeout=10)
        assert time.monotonic() - sent_at < 2.0
        assert trickling.open >= 2  # still stuck meanwhile

        wait_for(lambda: len(trickling.held) >= 2, timeout=10)
    assert all(3.9 < seconds < 5.0 for seconds in trickling.held[:2]), trickling.held


def stored(sent) -> bool:
    ids = [one.request_id for one in sent]
    return Registration.select().where(Registration.request_id.in_(ids)).count() == len(ids)
