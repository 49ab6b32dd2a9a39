"""Noticing that a queue vanished under a publisher, and sending again what it may have taken.

RabbitMQ acks a message routed to a queue that is being deleted at that instant, and drops
it with the queue: no return, no nack. So a publisher keeps what it delivered in the last
RECENT_SECONDS, and sends those messages to a queue again once it sees the queue vanished.
Copies are harmless (every actor is idempotent by message); a lost sign-up is not.

Two signs, because the first may go to another process: a message of ours returned
(NO_ROUTE), or the queue's consumers dropping to none, which a declare on a channel of its
own (so a refusal can't close the publishing channel) reads every PROBE_SECONDS. A deleted
queue comes back without consumers until the workers' consumers restart (seconds later),
so a process whose messages never came back still notices. Workers stopping for a deploy
look the same and cost a few copies.
"""

import logging
import time
from collections import deque
from collections.abc import Callable

from actors.queues import queue_arguments

log = logging.getLogger(__name__)
RECENT_SECONDS = 2.0  # far longer than a delete and its noticing take
PROBE_SECONDS = 0.25


class QueueWatch:
    """Remembers recent deliveries; on a vanished queue, hands them to resend (I/O thread only)."""

    def __init__(self, queue_type: str, resend: Callable[[str, list], None]) -> None:
        self.queue_type = queue_type
        self._resend = resend  # (queue name, delivered messages) -> publish them again
        self._recent: deque[tuple[float, object]] = deque()  # (when, message), oldest first
        self._resent_at: dict[str, float] = {}
        self._consumers: dict[str, int] = {}
        self._watched: set[str] = set()
        self._probe = None
        self._ioloop = None

    def delivered(self, queue_name: str, message: object) -> None:
        """message was confirmed on queue_name: keep it for RECENT_SECONDS."""
        now = time.monotonic()
        self._watched.add(queue_name)
        self._recent.append((now, (queue_name, message)))
        while self._recent and now - self._recent[0][0] > RECENT_SECONDS:
            self._recent.popleft()

    def consumers_seen(self, queue_name: str) -> int | None:
        """queue_name's consumer count at the last probe; None before the first."""
        return self._consumers.get(queue_name)

    def vanished(self, queue_name: str, sign: str) -> None:
        """queue_name is (or was just) missing: send its recent deliveries again, once."""
        now = time.monotonic()
        if now - self._resent_at.get(queue_name, float("-inf")) <= RECENT_SECONDS:
            return
        self._resent_at[queue_name] = now
        again = [message for _, (name, message) in self._recent if name == queue_name]
        log.warning(
            "queue %s vanished (%s): sending its last %d again", queue_name, sign, len(again)
        )
        self._resend(queue_name, again)

    def start(self, connection, ioloop) -> None:
        """Probe the watched queues on a channel of their own, on connection's I/O loop."""
        self._ioloop = ioloop
        connection.channel(on_open_callback=self._probe_opened)

    def _probe_opened(self, channel) -> None:
        self._probe = channel
        channel.add_on_close_callback(self._probe_closed)
        self._ioloop.call_later(PROBE_SECONDS, self._tick)

    def _probe_closed(self, _channel, reason) -> None:
        self._probe = None  # the connection's next start opens another
        log.debug("queue probe channel closed: %s", reason)

    def _tick(self) -> None:
        probe = self._probe
        if probe is None or not probe.is_open:
            return
        for name in list(self._watched):
            arguments = queue_arguments(name, self.queue_type)
            probe.queue_declare(
                name, durable=True, arguments=arguments, callback=self._reader(name)
            )
        self._ioloop.call_later(PROBE_SECONDS, self._tick)

    def _reader(self, queue_name: str) -> Callable:
        def read(frame) -> None:
            count = frame.method.consumer_count
            if self._consumers.get(queue_name, 0) > 0 and count == 0:
                self.vanished(queue_name, "its consumers are gone")
            self._consumers[queue_name] = count

        return read
