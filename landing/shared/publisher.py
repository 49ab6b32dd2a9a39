"""Handing messages to RabbitMQ: many in flight at once, each caller waiting for its own
publisher confirm, never past the publish timeout.

One confirm per publish, round trip by round trip, caps a connection at ~1,300 messages/s
here: RabbitMQ confirms a persistent message once it is on disk, and it writes to disk in
batches. So each process (web, and workers forwarding to the attempt log) keeps one
connection, driven by one I/O thread (pika's SelectConnection), that publishes whatever
other threads hand it without waiting, and settles their futures as confirms arrive
(RabbitMQ acks many deliveries with one frame).
"""

import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import dramatiq
import pika

from landing.shared.confirmed_link import ConfirmedLink, Outgoing, PublishFailed
from landing.shared.rabbitmq import node_urls
from landing.shared.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["PublishFailed", "Publisher"]


class Publisher:
    """Publishes dramatiq messages with confirms on one pipelined connection per process.

    Every publish is mandatory: a message RabbitMQ could not route (its queue deleted, a
    vhost reset, a node that held it gone) is never taken as delivered.
    """

    def __init__(
        self,
        urls: str | list[str],
        timeout: float,
        *,
        queue_type: str = "classic",
        max_background: int = 256,
    ) -> None:
        self.nodes = [
            pika.URLParameters(url) for url in ([urls] if isinstance(urls, str) else urls)
        ]
        self.timeout = timeout
        self.queue_type = queue_type
        self._link: ConfirmedLink | None = None
        self._lock = threading.Lock()
        self._background = threading.BoundedSemaphore(max_background)

    @classmethod
    def for_settings(cls, config: Settings) -> "Publisher":
        """The publisher a process of ours uses: every node, timeouts and queue type from config."""
        urls = node_urls(config.rabbitmq_url, config.publish_timeout)
        return cls(urls, config.publish_timeout, queue_type=config.rabbitmq_queue_type)

    def publish(self, *messages: dramatiq.Message) -> None:
        """Return once RabbitMQ has confirmed every message (sent together); raise the first
        PublishFailed otherwise."""
        deadline = time.monotonic() + self.timeout
        failed = [confirmed(future, deadline) for future in map(self.send, messages)]
        if first := next((error for error in failed if error is not None), None):
            raise first

    def send(self, message: dramatiq.Message) -> Future:
        """Hand message to the connection's thread; the future settles with its confirm
        (confirmed() waits for it, never past the publish timeout)."""
        outgoing = Outgoing(
            message.queue_name,
            message.encode(),
            message.options.get("broker_priority"),
            deadline=time.monotonic() + self.timeout,
        )
        return self._connected().send(outgoing)

    def publish_later(self, message: dramatiq.Message) -> None:
        """Publish without waiting, for best-effort messages; drop it if too many are pending."""
        if not self._background.acquire(blocking=False):
            log.warning("best-effort publish dropped: too many pending (%s)", message.message_id)
            return
        self.send(message).add_done_callback(self._finished)

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _connected(self) -> "ConfirmedLink":
        # Made on first use, in the process that uses it (gunicorn forks after create_app).
        with self._lock:
            if self._link is None:
                self._link = ConfirmedLink(self.nodes, self.queue_type)
            return self._link

    def _finished(self, future: Future) -> None:
        self._background.release()
        if future.exception() is not None:
            log.warning("best-effort publish failed: %s", future.exception())


def confirmed(future: Future, deadline: float) -> PublishFailed | None:
    """Wait until deadline (time.monotonic) for a send's confirm: None, or why it failed."""
    try:
        future.result(max(0.0, deadline - time.monotonic()))
    except FutureTimeout:
        return PublishFailed("no confirm within the publish timeout")
    except Exception as error:
        return PublishFailed(f"broker refused the message: {error}")
    return None
