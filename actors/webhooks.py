"""The deliver_webhook actor: each new registration POSTed, signed, to WEBHOOK_URL.

The register actors only add a deliver_webhook message to what they forward;
the POST happens here, on its own queue, so a slow or failing receiver never holds up a
sign-up. A delivery that keeps failing is retried with the broker's backoff, RETRIES times,
then kept in webhooks.XQ, from where the task dashboard can requeue it.
"""

import hashlib
import hmac
import json
import logging
from functools import partial
from http.client import HTTPException
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import HTTPRedirectHandler, Request, build_opener

import dramatiq
from dramatiq.middleware import CurrentMessage

from landing.shared.settings import Settings
from landing.shared.signup import DELIVER_WEBHOOK, WEBHOOK_FIELDS, WEBHOOKS
from landing.shared.tombstones import Tombstones

log = logging.getLogger(__name__)

# More than MAX_RETRIES: a receiver is often down for a deploy. With the default backoffs
# (1 s doubling up to 300 s, jittered) ten retries span about 8 to 13 minutes of failures.
RETRIES = 10
SIGNATURE = "X-Landing-Signature"
DELIVERY = "X-Landing-Delivery"


class DeliveryFailed(Exception):
    """The receiver did not take the delivery. Says why without the body or the URL."""

    def __init__(self, reason: str, permanent: bool = False) -> None:
        super().__init__(reason)
        self.permanent = permanent


class _NoRedirects(HTTPRedirectHandler):
    """A redirect is a failure: urllib would follow it with a GET and drop the body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = build_opener(_NoRedirects)


def should_retry(retries: int, error: Exception, *, max_retries: int) -> bool:
    """A malformed message or no WEBHOOK_URL never (straight to webhooks.XQ); else max_retries."""
    permanent = getattr(error, "permanent", False) or isinstance(error, KeyError | TypeError)
    return not permanent and retries < max_retries


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: HMAC-SHA256 of the exact body bytes, in hex."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def encode(event: dict[str, Any]) -> bytes:
    """The JSON body: the event's fields and nothing else, compact, UTF-8."""
    fields = {name: event[name] for name in WEBHOOK_FIELDS}
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":")).encode()


def post(config: Settings, body: bytes, delivery_id: str) -> int:
    """POST body to WEBHOOK_URL and return the HTTP status; a network error raises OSError."""
    headers = {
        "Content-Type": "application/json",
        SIGNATURE: sign(config.webhook_secret, body),
        DELIVERY: delivery_id,
        "User-Agent": "landing-webhooks",
    }
    request = Request(config.webhook_url, data=body, headers=headers, method="POST")
    try:
        with _opener.open(request, timeout=config.webhook_timeout) as response:
            return response.status
    except HTTPError as error:  # any status urllib does not count as success, 3xx included
        error.close()
        return error.code


def deliver(event: dict[str, Any], delivery_id: str, attempt: int, config: Settings) -> None:
    """Deliver one event; raise DeliveryFailed unless the receiver answered 2xx.

    Logs the delivery id, status and attempt only: never the body, which holds the phone.
    """
    if not config.webhook_url:
        raise DeliveryFailed("WEBHOOK_URL is not set", permanent=True)
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
    """Refuse at a worker's start a WEBHOOK_URL no delivery could use, or without its secret."""
    if not config.webhook_url:
        return
    parts = urlsplit(config.webhook_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RuntimeError("WEBHOOK_URL must be an http:// or https:// URL")
    if not config.webhook_secret:
        raise RuntimeError("WEBHOOK_URL needs WEBHOOK_SECRET (deliveries are signed)")


def declare(broker: dramatiq.Broker, config: Settings) -> dramatiq.Actor:
    """The deliver_webhook actor on broker; declared even without WEBHOOK_URL, so messages
    queued before it was unset are dead-lettered with a reason rather than left unconsumed."""
    check(config)
    tombstones = Tombstones(config.erasure_secret)

    def run(event: dict[str, Any]) -> None:
        message = CurrentMessage.get_current_message()
        if tombstones.erased([(event.get("phone"), event.get("created_at"))])[0]:
            log.info("webhook %s not delivered: its number was erased", message.message_id)
            return
        deliver(event, message.message_id, message.options.get("retries", 0) + 1, config)

    return dramatiq.actor(
        run,
        actor_name=DELIVER_WEBHOOK,
        queue_name=WEBHOOKS,
        retry_when=partial(should_retry, max_retries=RETRIES),
        broker=broker,
    )
