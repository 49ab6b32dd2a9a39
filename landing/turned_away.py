"""Turned-away sign-ups (400, 413, 415, 429) in the attempt history: every one, but cheaply.

A flood of bad requests must not become a flood of durable writes. So each process gathers
its turned-away attempts into one log_turned_away message per MAX_WAIT seconds (or
MAX_BATCH attempts), and past TURNED_AWAY_LOG_LIMIT attempts from one client address in a
window (a limit: landing.admission.refused) they are only counted
(landing_attempts_not_logged_total), not stored. Values are
cleaned before they are queued, so a batch is always one MongoDB can store.
"""

import threading
import uuid

from flask import current_app, request

from landing.admission.refused import under_log_cap
from landing.schemas import storable_text
from landing.shared.signup import SignUp, history_entry, now_iso, turned_away_message
from landing.visitor import client_ip, user_agent

MAX_RAW_PHONE = 64  # a rejected phone is recorded as typed, but never at any length
MAX_BATCH = 100
MAX_WAIT = 1.0  # seconds an attempt waits for others to share its message


class TurnedAwayBatch:
    """This process's turned-away attempts, published as one best-effort message per batch."""

    def __init__(self, publisher) -> None:
        self.publisher = publisher
        self._lock = threading.Lock()
        self._items: list[tuple[SignUp, list[dict]]] = []
        self._timer: threading.Timer | None = None

    def add(self, signup: SignUp, entries: list[dict]) -> None:
        with self._lock:
            self._items.append((signup, entries))
            full = len(self._items) >= MAX_BATCH
            if not full and self._timer is None:
                self._timer = threading.Timer(MAX_WAIT, self.flush)
                self._timer.daemon = True
                self._timer.start()
        if full:
            self.flush()

    def flush(self) -> None:
        """Publish what is gathered (without waiting for RabbitMQ's confirm)."""
        with self._lock:
            batch, self._items = self._items, []
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        if batch:
            self.publisher.publish_later(turned_away_message(batch))


def record_rejected(status: str, claim_id: bool = True) -> None:
    """Add this turned-away request to the attempt history, or only count it past the cap.

    With claim_id, under the request_id the client sent (when valid), so it can find it.
    """
    ip = client_ip()
    if not under_log_cap(ip):
        current_app.extensions["metrics"].not_logged.labels(status).inc()
        return
    body = _body()
    signup = SignUp(
        request_id=(claim_id and _claimed_request_id(body)) or str(uuid.uuid4()),
        phone=_raw_phone(body),
        referrer=None,
        ip=ip,
        user_agent=user_agent(),
        received_at=now_iso(),
    )
    current_app.extensions["turned_away"].add(signup, [history_entry(status)])


def _body() -> dict:
    try:
        body = request.get_json(silent=True)
    except Exception:  # too large, or not JSON: there is nothing to keep
        return {}
    return body if isinstance(body, dict) else {}


def _claimed_request_id(body: dict) -> str | None:
    """The client's own request_id, when it sent a valid one: it can then find its attempt."""
    value = body.get("request_id")
    try:
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def _raw_phone(body: dict) -> str | None:
    """Whatever the client sent as phone, cut short and storable.

    Surrogates and control characters become U+FFFD rather than vanish, so the history still
    shows that the typed number held something it should not.
    """
    phone = body.get("phone")
    if not isinstance(phone, str):
        return None
    return storable_text(phone, MAX_RAW_PHONE, control="\ufffd")
