"""The deliver_webhook actor: each new registration POSTed, signed, to WEBHOOK_URL.

The register actors only add a deliver_webhook message to what they forward; the POST
happens here, on the webhooks queue, which a worker process of its own consumes (Procfile
and compose: `webhooks`), so a slow or hanging receiver never holds a thread a sign-up
needs. Each attempt has WEBHOOK_TIMEOUT in all (actors.deadline_post). A delivery that keeps
failing is retried with the broker's backoff, RETRIES times, then kept in webhooks.XQ, from
where the task dashboard can requeue it.

Deliveries follow Standard Webhooks: `webhook-id` (the message id, the same on every retry),
`webhook-timestamp` (this attempt's), and `webhook-signature`, one `v1,<base64 HMAC-SHA256 of
id.timestamp.body>` per secret. Receivers refuse a timestamp more than 5 minutes off, so a
captured delivery cannot be replayed later."""

import base64
import binascii
import json
import logging
import time
from datetime import UTC, datetime
from http.client import HTTPException
from typing import Any
from urllib.parse import urlsplit

import dramatiq
from dramatiq.middleware import CurrentMessage
from standardwebhooks import Webhook

from actors import deadline_post
from actors.retries import RetryPolicy
from landing.shared.failures import Permanent, Transient
from landing.shared.settings import Settings
from landing.shared.signup import DELIVER_WEBHOOK, WEBHOOK_FIELDS, WEBHOOKS
from landing.shared.tombstones import Tombstones

log = logging.getLogger(__name__)

# More than MAX_RETRIES: a receiver is often down for a deploy. With the default backoffs
# (1-2 s, doubling up to 150-300 s: dramatiq 2's jitter only lengthens a delay) ten retries
# span about 10 to 18 minutes of failures.
RETRIES = 10
# Standard Webhooks' secrets: whsec_ and base64 of 24 to 64 random bytes, as it advises.
SECRET_PREFIX = "whsec_"
SECRET_BYTES = range(24, 65)


class DeliveryFailed(Transient):
    """The receiver did not take the delivery, for now. Says why without the body or the URL."""


class Undeliverable(Permanent):
    """No delivery could succeed: there is no WEBHOOK_URL to deliver to."""


def signing_secrets(config: Settings) -> list[str]:
    """The secrets deliveries are signed with: the current one, then the previous one while
    a rotation is under way (receivers accept a delivery any one of them verifies)."""
    return [s for s in (config.webhook_secret, config.webhook_secret_previous) if s]


def signed_headers(keys: list[str], delivery_id: str, body: bytes, now: float) -> dict[str, str]:
    """Standard Webhooks' headers: the delivery id, the attempt's time, and one signature of
    `id.timestamp.body` per secret, space-separated."""
    sent_at = datetime.fromtimestamp(int(now), UTC)
    text = body.decode()
    return {
        "webhook-id": delivery_id,
        "webhook-timestamp": str(int(now)),
        "webhook-signature": " ".join(Webhook(k).sign(delivery_id, sent_at, text) for k in keys),
    }


def encode(event: dict[str, Any]) -> bytes:
    """The JSON body: the event's fields and nothing else, compact, UTF-8."""
    fields = {name: event[name] for name in WEBHOOK_FIELDS}
    if "verified_at" in event:  # registration.verified
        fields["verified_at"] = event["verified_at"]
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def post(config: Settings, body: bytes, delivery_id: str) -> int:
    """POST body to WEBHOOK_URL, signed now, and return the HTTP status within
    WEBHOOK_TIMEOUT; a network error or the deadline raises OSError."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "landing-webhooks",
        **signed_headers(signing_secrets(config), delivery_id, body, time.time()),
    }
    return deadline_post.post(config.webhook_url, body, headers, config.webhook_timeout)


def deliver(event: dict[str, Any], delivery_id: str, attempt: int, config: Settings) -> None:
    """Deliver one event; raise DeliveryFailed unless the receiver answered 2xx (or
    Undeliverable without WEBHOOK_URL; KeyError for an event without its fields).

    Logs the delivery id, status and attempt only: never the body, which holds the phone.
    """
    if not config.webhook_url:
        raise Undeliverable("WEBHOOK_URL is not set")
    body = encode(event)
    try:
        status = post(config, body, delivery_id)
    except (OSError, HTTPException) as error:  # refused, reset, timed out, not HTTP
        log.warning("webhook %s failed: %s, attempt %d", delivery_id, type(error).__name__, attempt)
        raise DeliveryFailed(f"network error: {type(error).__name__}") from None
    if not 200 <= status < 300:
        log.warning("webhook %s failed: status %d, attempt %d", delivery_id, status, attempt)
        raise DeliveryFailed(f"status {status}")
    log.info("webhook %s delivered: status %d, attempt %d", delivery_id, status, attempt)


def check(config: Settings) -> None:
    """Refuse at a worker's start a WEBHOOK_URL no delivery could use, or could be trusted
    with: plain http in production, no secret, a secret not in Standard Webhooks' form, or a
    deadline TimeLimit would cut first."""
    if not config.webhook_url:
        return
    parts = urlsplit(config.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuntimeError("WEBHOOK_URL must be an http:// or https:// URL")
    if parts.scheme != "https" and config.app_env == "production":
        # The body holds a phone number in full: never in clear text over the internet.
        raise RuntimeError("APP_ENV=production needs an https:// WEBHOOK_URL, not http://")
    if not config.webhook_secret:
        raise RuntimeError("WEBHOOK_URL needs WEBHOOK_SECRET (deliveries are signed)")
    for name, secret in (
        ("WEBHOOK_SECRET", config.webhook_secret),
        ("WEBHOOK_SECRET_PREVIOUS", config.webhook_secret_previous),
    ):
        if secret and not well_formed(secret):
            raise RuntimeError(f"{name} must be whsec_ and base64 of 24 to 64 random bytes")
    if not 0 < config.webhook_timeout * 1000 < config.actor_time_limit_ms:
        raise RuntimeError("WEBHOOK_TIMEOUT must be above 0 and under ACTOR_TIME_LIMIT_MS")


def well_formed(secret: str) -> bool:
    """A Standard Webhooks secret (the library itself skips what is not base64 silently)."""
    if not secret.startswith(SECRET_PREFIX):
        return False
    try:
        key = base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except binascii.Error:
        return False
    return len(key) in SECRET_BYTES


def declare(broker: dramatiq.Broker, config: Settings) -> dramatiq.Actor:
    """The deliver_webhook actor on broker; declared even without WEBHOOK_URL, so messages
    queued before it was unset are dead-lettered with a reason rather than left unconsumed."""
    check(config)
    tombstones = Tombstones(config.erasure_secret)

    def run(event: dict[str, Any]) -> None:
        message = CurrentMessage.get_current_message()
        if message is None:  # the worker sets it (CurrentMessage middleware) before any actor
            raise RuntimeError("deliver_webhook runs only inside a worker")
        if tombstones.erased([(event.get("phone"), event["created_at"])])[0]:
            log.info("webhook %s not delivered: its number was erased", message.message_id)
            return
        deliver(event, message.message_id, message.options.get("retries", 0) + 1, config)

    return dramatiq.actor(
        actor_name=DELIVER_WEBHOOK,
        queue_name=WEBHOOKS,
        # RETRIES times, whatever the receiver's trouble; an event without its fields or
        # no WEBHOOK_URL never (straight to webhooks.XQ).
        retry_when=RetryPolicy(RETRIES),
        broker=broker,
    )(run)
