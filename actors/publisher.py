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
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import dramatiq
import pika
from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL
from dramatiq.common import dq_name, xq_name
from pika.adapters.select_connection import IOLoop
from pika.spec import Basic

log = logging.getLogger(__name__)
RECONNECT_DELAY = 1.0  # seconds a failed connection fails sends at once before we retry


class PublishFailed(Exception):
    """RabbitMQ did not confirm the message in time (it may still hold it)."""


def queue_declarations(queue_name: str) -> list[tuple[str, dict]]:
    """The queues dramatiq's RabbitmqBroker declares for queue_name, with its arguments."""
    dead_letters = {"x-dead-letter-exchange": "", "x-dead-letter-routing-key": xq_name(queue_name)}
    return [
        (queue_name, dead_letters),
        (dq_name(queue_name), dead_letters),
        (xq_name(queue_name), {"x-message-ttl": DEAD_MESSAGE_TTL}),
    ]


class Publisher:
    """Publishes dramatiq messages with confirms on one pipelined connection per process."""

    def __init__(self, url: str, timeout: float, max_background: int = 256) -> None:
        self.parameters = pika.URLParameters(url)
        self.timeout = timeout
        self._link: ConfirmedLink | None = None
        self._lock = threading.Lock()
        self._background = threading.BoundedSemaphore(max_background)

    def publish(self, message: dramatiq.Message) -> None:
        """Return once RabbitMQ has confirmed message; raise PublishFailed otherwise."""
        future = self._send(message)
        try:
            future.result(self.timeout)
        except FutureTimeout:
            raise PublishFailed("no confirm within the publish timeout") from None
        except Exception as error:
            raise PublishFailed(f"broker refused the message: {error}") from None

    def publish_later(self, message: dramatiq.Message) -> None:
        """Publish without waiting, for best-effort messages; drop it if too many are pending."""
        if not self._background.acquire(blocking=False):
            log.warning("best-effort publish dropped: too many pending (%s)", message.message_id)
            return
        self._send(message).add_done_callback(self._finished)

    def close(self) -> None:
        if self._link is not None:
            self._link.close()
            self._link = None

    def _send(self, message: dramatiq.Message) -> Future:
        properties = pika.BasicProperties(
            delivery_mode=2, priority=message.options.get("broker_priority")
        )
        return self._connected().send(message.queue_name, message.encode(), properties)

    def _connected(self) -> "ConfirmedLink":
        # Made on first use, in the process that uses it (gunicorn forks after create_app).
        with self._lock:
            if self._link is None:
                self._link = ConfirmedLink(self.parameters)
            return self._link

    def _finished(self, future: Future) -> None:
        self._background.release()
        if future.exception() is not None:
            log.warning("best-effort publish failed: %s", future.exception())


class ConfirmedLink:
    """One AMQP connection and channel in confirm mode, owned by its own I/O thread.

    Other threads only append to the outbox and wake the loop; everything pika is touched
    from the I/O thread. After a lost connection, sends fail at once (the caller answers
    503) for RECONNECT_DELAY; the next send after that connects again.
    """

    def __init__(self, parameters: pika.URLParameters) -> None:
        self.parameters = parameters
        self.state = "connecting"  # then "open", or "down" between attempts
        self._ioloop = IOLoop()
        self._outbox: deque[tuple[str, bytes, pika.BasicProperties, Future]] = deque()
        self._unconfirmed: dict[int, Future] = {}  # delivery tag -> future, in tag order
        self._connection: pika.SelectConnection | None = None
        self._channel = None
        self._tag = 0
        self._declared: set[str] = set()
        self._closing = False
        self._down_at = 0.0
        self.thread = threading.Thread(target=self._run, name="amqp-publisher", daemon=True)
        self.thread.start()

    def send(self, queue_name: str, body: bytes, properties: pika.BasicProperties) -> Future:
        future: Future = Future()
        if self.state == "down" and time.monotonic() - self._down_at < RECONNECT_DELAY:
            future.set_exception(PublishFailed("RabbitMQ is unreachable"))
            return future
        self._outbox.append((queue_name, body, properties, future))
        self._ioloop.add_callback_threadsafe(self._flush)
        return future

    def close(self) -> None:
        self._ioloop.add_callback_threadsafe(self._shutdown)

    # Everything below runs on the I/O thread.

    def _run(self) -> None:
        self._connect()
        self._ioloop.start()

    def _connect(self) -> None:
        if self._closing:
            return
        self.state = "connecting"
        self._connection = pika.SelectConnection(
            self.parameters,
            on_open_callback=lambda connection: connection.channel(on_open_callback=self._opened),
            on_open_error_callback=self._lost,
            on_close_callback=self._lost,
            custom_ioloop=self._ioloop,
        )

    def _opened(self, channel) -> None:
        channel.add_on_close_callback(self._channel_closed)
        channel.confirm_delivery(
            ack_nack_callback=self._confirmed, callback=lambda _frame: self._ready(channel)
        )

    def _ready(self, channel) -> None:
        self._channel, self._tag, self.state = channel, 0, "open"
        if self._closing:  # close() came while we were connecting
            self._connection.close()
            return
        self._declared.clear()
        self._flush()

    def _flush(self) -> None:
        if self.state == "down" and self._outbox:
            self._connect()
        while self.state == "open" and self._outbox:
            queue_name, body, properties, future = self._outbox.popleft()
            self._declare(queue_name)
            self._channel.basic_publish("", queue_name, body, properties)
            self._tag += 1
            self._unconfirmed[self._tag] = future

    def _declare(self, queue_name: str) -> None:
        # Declares are ordered before the publish on the channel; no need to wait for them.
        if queue_name not in self._declared:
            for name, arguments in queue_declarations(queue_name):
                self._channel.queue_declare(name, durable=True, arguments=arguments)
            self._declared.add(queue_name)

    def _confirmed(self, frame) -> None:
        method = frame.method
        settled = [method.delivery_tag]
        if method.multiple:
            settled = [tag for tag in self._unconfirmed if tag <= method.delivery_tag]
        for tag in settled:
            future = self._unconfirmed.pop(tag, None)
            if future is None:
                continue
            if isinstance(method, Basic.Ack):
                future.set_result(None)
            else:
                future.set_exception(PublishFailed("RabbitMQ refused the message (nack)"))

    def _channel_closed(self, _channel, reason) -> None:
        log.warning("publishing channel closed: %s", reason)
        if self._connection is not None and self._connection.is_open:
            self._connection.close()

    def _lost(self, _connection, reason) -> None:
        if self.state == "open" and not self._closing:
            log.warning("RabbitMQ connection lost: %s", type(reason).__name__)
        self.state, self._channel, self._down_at = "down", None, time.monotonic()
        unconfirmed, self._unconfirmed = list(self._unconfirmed.values()), {}
        self._fail(unconfirmed + self._drain_outbox(), "no connection to RabbitMQ")
        if self._closing:
            self._ioloop.stop()

    def _drain_outbox(self) -> list[Future]:
        futures = []
        while self._outbox:
            futures.append(self._outbox.popleft()[3])
        return futures

    @staticmethod
    def _fail(futures: list[Future], reason: str) -> None:
        for future in futures:
            if not future.done():
                future.set_exception(PublishFailed(reason))

    def _shutdown(self) -> None:
        self._closing = True
        if self.state == "open":
            self._connection.close()  # _lost stops the loop
        elif self.state != "connecting":
            self._ioloop.stop()
        # While connecting, pika can't be interrupted cleanly (closing mid-handshake trips
        # an assertion inside it): _ready or _lost finishes the shutdown.
