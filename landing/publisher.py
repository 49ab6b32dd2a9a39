"""Handing messages to RabbitMQ within a bounded time."""

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import dramatiq

log = logging.getLogger(__name__)


class PublishFailed(Exception):
    """RabbitMQ did not confirm the message in time (it may still hold it)."""


class Publisher:
    """Publishes through a broker with publisher confirms, never waiting past `timeout`.

    pika has no per-publish deadline (a stalled broker or a memory alarm can block a
    confirm for far longer), so each publish runs on a small pool of threads, each with
    its own broker connection, and the caller stops waiting at the deadline.
    """

    def __init__(self, broker: dramatiq.Broker, timeout: float, threads: int = 8) -> None:
        self.broker = broker
        self.timeout = timeout
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="publish")
        self._background = threading.BoundedSemaphore(threads * 4)

    def publish(self, message: dramatiq.Message) -> None:
        """Return once RabbitMQ has confirmed message; raise PublishFailed otherwise."""
        future = self._pool.submit(self.broker.enqueue, message)
        try:
            future.result(self.timeout)
        except FutureTimeout:
            raise PublishFailed("no confirm within the publish timeout") from None
        except Exception as error:
            raise PublishFailed(f"broker refused the message: {type(error).__name__}") from None

    def publish_later(self, message: dramatiq.Message) -> None:
        """Publish without waiting, for best-effort messages; drop it if too many are pending."""
        if not self._background.acquire(blocking=False):
            log.warning(
                "best-effort publish dropped: too many pending (message %s)",
                message.message_id,
            )
            return
        future = self._pool.submit(self.broker.enqueue, message)
        future.add_done_callback(self._finished)

    def _finished(self, future) -> None:
        self._background.release()
        if future.exception() is not None:
            log.warning("best-effort publish failed: %s", type(future.exception()).__name__)
