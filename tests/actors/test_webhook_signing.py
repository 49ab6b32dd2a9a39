"""The webhook's signing, its start-up checks and its deadline, without any service.

Signatures are checked with standardwebhooks' own Webhook.verify, as a receiver would.
The deadline is checked against receivers in a thread of this process that never answer, or
answer a byte at a time.
"""

import socket
import threading
import time

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from actors import deadline_post, webhooks
from tests.support.config import WEBHOOK_SECRET, WEBHOOK_SECRET_PREVIOUS
from tests.support.config import settings as test_settings

BODY = b'{"event":"registration.created","phone":"09121234567","referrer":"\xd8\xa8"}'
ID = "0b5e8b8e-5a0f-5c4e-9d2c-3c3d0b2f1a11"


def headers(keys=(WEBHOOK_SECRET,), body=BODY, at=None) -> dict[str, str]:
    return webhooks.signed_headers(list(keys), ID, body, time.time() if at is None else at)


def test_a_delivery_verifies_with_its_secret_as_standard_webhooks_says():
    signed = headers()
    assert Webhook(WEBHOOK_SECRET).verify(BODY, signed)["referrer"] == "ب"
    assert signed["webhook-id"] == ID
    assert signed["webhook-timestamp"].isdigit()
    assert signed["webhook-signature"].startswith("v1,")


def test_during_a_rotation_either_secret_verifies():
    signed = headers((WEBHOOK_SECRET, WEBHOOK_SECRET_PREVIOUS))
    assert len(signed["webhook-signature"].split(" ")) == 2
    for secret in (WEBHOOK_SECRET, WEBHOOK_SECRET_PREVIOUS):
        Webhook(secret).verify(BODY, signed)
    with pytest.raises(WebhookVerificationError, match="No matching signature"):
        Webhook("whsec_" + "A" * 32).verify(BODY, signed)


@pytest.mark.parametrize("change", ["body", "id", "timestamp", "old", "future"])
def test_a_tampered_or_stale_delivery_fails_verification(change):
    signed, body = headers(at=time.time() - (600 if change == "old" else 0)), BODY
    if change == "future":
        signed = headers(at=time.time() + 600)
    elif change == "body":
        body = BODY.replace(b"0912", b"0935")
    elif change == "id":
        signed["webhook-id"] = ID[::-1]
    elif change == "timestamp":  # a replay with a fresh timestamp: the signature no longer fits
        signed["webhook-timestamp"] = str(int(time.time()) + 1)
    with pytest.raises(WebhookVerificationError):
        Webhook(WEBHOOK_SECRET).verify(body, signed)


def test_the_secrets_are_the_current_one_then_the_previous():
    config = test_settings.replace(webhook_secret="whsec_a", webhook_secret_previous="")
    assert webhooks.signing_secrets(config) == ["whsec_a"]
    config = config.replace(webhook_secret_previous="whsec_b")
    assert webhooks.signing_secrets(config) == ["whsec_a", "whsec_b"]


def hooked(**changes):
    values = {"webhook_url": "https://crm.example/hooks", "webhook_secret": WEBHOOK_SECRET}
    return test_settings.replace(**{**values, **changes})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"webhook_url": "ftp://example.com/"}, "http:// or https://"),
        ({"webhook_url": "not a url"}, "http:// or https://"),
        ({"webhook_secret": ""}, "needs WEBHOOK_SECRET"),
        ({"webhook_secret": "s3cret"}, "WEBHOOK_SECRET must be whsec_"),
        ({"webhook_secret": "whsec_not*base64"}, "WEBHOOK_SECRET must be whsec_"),
        ({"webhook_secret": "whsec_c2hvcnQ="}, "WEBHOOK_SECRET must be whsec_"),  # 5 bytes
        ({"webhook_secret_previous": "old-hmac-key"}, "WEBHOOK_SECRET_PREVIOUS must be whsec_"),
        ({"webhook_timeout": 0.0}, "WEBHOOK_TIMEOUT"),
        ({"webhook_timeout": 30.0}, "WEBHOOK_TIMEOUT"),  # TimeLimit (30 s) would cut it first
        ({"app_env": "production", "webhook_url": "http://crm.example/"}, "https://"),
    ],
)
def test_workers_refuse_at_start_a_webhook_they_could_not_deliver_or_be_trusted_with(
    changes, message
):
    with pytest.raises(RuntimeError, match=message):
        webhooks.check(hooked(**changes))


def test_http_is_for_development_and_https_for_everywhere():
    webhooks.check(hooked(webhook_url="http://127.0.0.1:9/hooks"))  # the tests' receivers
    webhooks.check(hooked(app_env="production", webhook_secret_previous=WEBHOOK_SECRET_PREVIOUS))
    webhooks.check(test_settings.replace(app_env="production", webhook_url=""))  # no webhook


@pytest.fixture
def slow_receiver():
    """A local receiver that takes each connection and answers as the test sets: never
    ("hang") or a status line a byte every 0.05 s ("trickle"). Yields (url, mode setter)."""
    server = socket.create_server(("127.0.0.1", 0))
    mode, held = {"how": "hang"}, []

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)
            if mode["how"] == "trickle":
                threading.Thread(target=trickle, args=(conn,), daemon=True).start()

    def trickle(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return
            time.sleep(0.05)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/hooks", mode
    server.close()
    for conn in held:
        conn.close()


@pytest.mark.parametrize("how", ["hang", "trickle"])
def test_a_delivery_is_cut_at_its_total_deadline(slow_receiver, how):
    """The trickle's 38 bytes would take 2 s, each one well inside a per-read timeout."""
    url, mode = slow_receiver
    mode["how"] = how
    started = time.monotonic()
    with pytest.raises(deadline_post.DeadlinePassed):
        deadline_post.post(url, BODY, {"Content-Type": "application/json"}, 0.5)
    assert 0.5 <= time.monotonic() - started < 1.0


def test_an_answer_within_the_deadline_is_returned(slow_receiver):
    url, mode = slow_receiver
    mode["how"] = "trickle"
    assert deadline_post.post(url, BODY, {}, 10.0) == 200
