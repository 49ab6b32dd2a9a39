"""Sign-ups as tests make them: the typed record, and its message body."""

import uuid

import dramatiq
import pika

from landing.shared.signup import SignUp, now_iso, status_key
from tests.support.config import settings

PHONE = "09121234567"
PEER = "127.0.0.1"  # the test client's REMOTE_ADDR


def signup(phone: str | None = PHONE, **changes) -> SignUp:
    """A sign-up as the web would accept it, with changes (request_id, referrer...)."""
    values = {
        "request_id": str(uuid.uuid4()),
        "phone": phone,
        "referrer": "campaign",
        "ip": "203.0.113.5",
        "user_agent": "pytest",
        "received_at": now_iso(),
    }
    return SignUp(**{**values, **changes})


def attempt(phone: str | None = PHONE, **changes) -> dict:
    """A message's sign-up body: signup(phone) as JSON values, with changes on top (which may
    be fields a SignUp cannot hold, for tests of what workers make of a malformed body)."""
    return {**signup(phone).as_message(), **changes}


def message_carrying(body, request_id: str | None = None) -> dramatiq.Message:
    """A register message carrying body as it is, well formed or not; its id is request_id
    (body's own request_id when not given), as the web's would be."""
    return status_key(request_id or body["request_id"]).copy(args=(body,))


def dead_letters(queue: str) -> list[dramatiq.Message]:
    """The messages in queue.XQ, looked at and left there (unacknowledged until we close)."""
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    try:
        channel, found = connection.channel(), []
        while (delivery := channel.basic_get(f"{queue}.XQ", auto_ack=False))[0] is not None:
            found.append(dramatiq.Message.decode(delivery[2]))
        return found
    finally:
        connection.close()


def status_of(client, request_id: str) -> str | None:
    return client.get(f"/api/register/{request_id}").json.get("status")
