"""Noticing that a queue vanished under a publisher, and sending again what it may have taken.

RabbitMQ acks a message routed to a queue that is being deleted at that instant, and drops
it with the queue: no return, no nack. So a publisher keeps what it delivered in the last
RECENT_SECONDS, and sends those messages to a queue again once it learns the queue
vanished. Copies are harmless (every actor is idempotent by message); a lost sign-up is not.

The first sign may reach another process: a message of its own returned (NO_ROUTE), or,
for a worker, its consumer cancelled by the broker (what a deleted queue does to every
consumer). Whoever sees it announces it on the fanout exchange VANISHED, and every
publisher listens there on an exclusive queue of its own, so each one sends its own recent
messages again, even one whose messages never came back.
"""

import logging
import time
from collections import deque
from collections.abc import Callable

from pika.channel import Channel
from pika.connection import Connection
from pika.frame import Method
from pika.spec import Queue

log = logging.getLogger(__name__)
RECENT_SECONDS = 2.0  # far longer than a delete and its announcement take
VANISHED = "landing.queue-vanished"  # fanout; a message's body is the queue's name


def announce_vanished(channel, queue_name: str) -> None:
    """Tell every publisher that queue_name vanished (a blocking or an async pika channel)."""
    channel.exchange_declare(VANISHED, exchange_type="fanout", durable=True)
    channel.basic_publish(VANISHED, "", queue_name.encode())


class QueueWatch:
    """Remembers recent deliveries; on a vanished queue, hands them to resend (I/O thread only)."""

    def __init__(self, resend: Callable[[str, list], None]) -> None:
        self._resend = resend  # (queue name, delivered messages) -> publish them again
        self._recent: deque[tuple[float, str, object]] = deque()  # oldest first
        self._resent_at: dict[str, float] = {}
        self._channel: Channel | None = None  # ours, once open
        self.listening = False  # announcements reach us (tests wait for it)
        self._unannounced: set[str] = set()

    def delivered(self, queue_name: str, message: object) -> None:
        """message was confirmed on queue_name: keep it for RECENT_SECONDS."""
        now = time.monotonic()
        self._recent.append((now, queue_name, message))
        while self._recent and now - self._recent[0][0] > RECENT_SECONDS:
            self._recent.popleft()

    def returned(self, queue_name: str) -> None:
        """One of our messages came back: the queue is gone; tell everyone, then resend."""
        self._unannounced.add(queue_name)
        self._announce()
        self._vanished(queue_name)

    def _announce(self) -> None:
        if self._channel is not None and self._channel.is_open:  # else once it opens
            while self._unannounced:
                announce_vanished(self._channel, self._unannounced.pop())

    def start(self, connection: Connection) -> None:
        """Listen for announcements on a channel of connection's own."""
        connection.channel(on_open_callback=self._opened)

    def _opened(self, channel: Channel) -> None:
        self._channel = channel
        channel.exchange_declare(VANISHED, exchange_type="fanout", durable=True)
        channel.queue_declare(
            "", exclusive=True, auto_delete=True, callback=lambda f: self._declared(channel, f)
        )
        self._announce()

    def _declared(self, channel: Channel, frame: Method[Queue.DeclareOk]) -> None:
        queue = frame.method.queue
        channel.queue_bind(queue, VANISHED)
        channel.basic_consume(
            queue, self._announced, auto_ack=True, callback=lambda _frame: self._listening()
        )

    def _listening(self) -> None:
        self.listening = True

    def _announced(self, _channel, _method, _properties, body: bytes) -> None:
        self._vanished(body.decode("ascii", "replace"))

    def _vanished(self, queue_name: str) -> None:
        now = time.monotonic()
        if now - self._resent_at.get(queue_name, float("-inf")) <= RECENT_SECONDS:
            return  # once per vanishing: several processes announce the same one
        self._resent_at[queue_name] = now
        again = [message for _, name, message in self._recent if name == queue_name]
        log.warning("queue %s vanished: sending %d messages again", queue_name, len(again))
        self._resend(queue_name, again)
