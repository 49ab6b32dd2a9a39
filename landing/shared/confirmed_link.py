"""One AMQP connection in confirm mode, owned by its own I/O thread (pika's SelectConnection).

Other threads only append to the outbox and wake the loop; everything pika is touched from
the I/O thread. A message is settled by its confirm: an ack settles it as delivered, except
that a mandatory message RabbitMQ could not route comes back (basic.return, sent before its
ack) and is declared-and-published again while its deadline allows. RabbitMQ confirms and
drops a message whose queue is missing unless it is mandatory: the return is the only sign.

RabbitMQ also acks a message routed to a queue that is being deleted at that instant, and
drops it with the queue: landing.shared.queue_watch learns the queue vanished (from a return of
ours, or another process's announcement) and has the link publish its recent messages
there again.

Several nodes (a cluster) are tried in turn: a lost connection moves to the next node at
once, keeping the messages not yet published. Once every node has failed in a row, sends
fail at once (the caller answers 503) for RECONNECT_DELAY; the next send after that connects
again.
"""

import logging
import threading
import time
from collections import deque
from concurrent.futures import Future

import pika
from pika.adapters.select_connection import IOLoop
from pika.channel import Channel
from pika.spec import Basic

from landing.shared.failures import Transient
from landing.shared.queue_watch import RECENT_SECONDS, QueueWatch
from landing.shared.queues import queue_declarations

log = logging.getLogger(__name__)
RECONNECT_DELAY = 1.0  # seconds every node having failed fails sends at once before we retry
MAX_ROUTING_ATTEMPTS = 3  # a queue declared again routes the next publish; 3 covers a race


class PublishFailed(Transient):
    """RabbitMQ did not confirm the message in time (it may still hold it)."""


class Outgoing:
    """A message on its way: where it goes, until when it may be tried, and its caller's future."""

    __slots__ = ("attempts", "body", "deadline", "future", "priority", "queue_name", "returned")

    def __init__(self, queue_name: str, body: bytes, priority: int | None, deadline: float):
        self.queue_name, self.body, self.priority, self.deadline = (
            queue_name,
            body,
            priority,
            deadline,
        )
        self.future: Future = Future()
        self.returned = False
        self.attempts = 0


class ConfirmedLink:
    """Publishes Outgoing messages on one confirm-mode channel, failing over between nodes."""

    def __init__(self, nodes: list[pika.URLParameters], queue_type: str) -> None:
        self.nodes = nodes
        self.queue_type = queue_type
        self.state = "connecting"  # then "open", or "down" between attempts
        self._ioloop = IOLoop()
        self._outbox: deque[Outgoing] = deque()
        self._unconfirmed: dict[int, Outgoing] = {}  # delivery tag -> message, in tag order
        self._connection: pika.SelectConnection | None = None
        self._channel: Channel | None = None  # set while state is "open"
        self._tag = 0
        self._declared: set[str] = set()
        self._closing = False
        self._down_at = 0.0
        self._node = 0
        self._failures = 0  # nodes that failed in a row
        self.watch = QueueWatch(self._send_again)
        self.thread = threading.Thread(target=self._run, name="amqp-publisher", daemon=True)
        self.thread.start()

    def send(self, outgoing: Outgoing) -> Future:
        if self.state == "down" and time.monotonic() - self._down_at < RECONNECT_DELAY:
            outgoing.future.set_exception(PublishFailed("RabbitMQ is unreachable"))
            return outgoing.future
        self._outbox.append(outgoing)
        self._ioloop.add_callback_threadsafe(self._flush)
        return outgoing.future

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
            self.nodes[self._node],
            on_open_callback=lambda connection: connection.channel(on_open_callback=self._opened),
            on_open_error_callback=self._lost,
            on_close_callback=self._lost,
            custom_ioloop=self._ioloop,
        )

    def _opened(self, channel: Channel) -> None:
        channel.add_on_close_callback(self._channel_closed)
        channel.add_on_return_callback(self._returned)
        channel.confirm_delivery(
            ack_nack_callback=self._confirmed, callback=lambda _frame: self._ready(channel)
        )

    def _ready(self, channel: Channel) -> None:
        self._channel, self._tag, self.state, self._failures = channel, 0, "open", 0
        if self._closing:  # close() came while we were connecting
            channel.connection.close()
            return
        self._declared.clear()
        self.watch.start(channel.connection)
        self._flush()

    def _flush(self) -> None:
        if self.state == "down" and self._outbox:
            self._connect()
        while self.state == "open" and self._channel is not None and self._outbox:
            outgoing = self._outbox.popleft()
            if time.monotonic() >= outgoing.deadline:
                _fail([outgoing], "no confirm within the publish timeout")
                continue
            self._declare(self._channel, outgoing.queue_name)
            self._tag += 1
            # The tag travels with the message so that a basic.return names its message; the
            # timestamp lets RabbitMQ tell the age of a queue's oldest message (the campaign
            # page's backlog line).
            properties = pika.BasicProperties(
                delivery_mode=2,
                priority=outgoing.priority,
                correlation_id=str(self._tag),
                timestamp=int(time.time()),
            )
            self._channel.basic_publish(
                "", outgoing.queue_name, outgoing.body, properties, mandatory=True
            )
            self._unconfirmed[self._tag] = outgoing

    def _declare(self, channel: Channel, queue_name: str) -> None:
        # Declares are ordered before the publish on the channel; no need to wait for them.
        if queue_name not in self._declared:
            for name, arguments in queue_declarations(queue_name, self.queue_type):
                channel.queue_declare(name, durable=True, arguments=arguments)
            self._declared.add(queue_name)

    def _returned(self, _channel, method, properties, _body) -> None:
        outgoing = self._unconfirmed.get(int(properties.correlation_id or 0))
        if outgoing is not None:
            outgoing.returned = True
        self.watch.returned(method.routing_key)

    def _send_again(self, queue_name: str, delivered: list[Outgoing]) -> None:
        """Publish delivered again (after declaring queue_name); nobody waits for them.

        Messages still waiting for their confirm go too: one routed to the queue in the
        instant it was deleted is acked after the news arrived, and dropped with the queue.
        """
        self._declared.discard(queue_name)
        deadline = time.monotonic() + RECENT_SECONDS
        in_flight = [
            o
            for o in self._unconfirmed.values()
            if o.queue_name == queue_name and not o.returned  # a returned one is routed again
        ]
        for outgoing in [*delivered, *in_flight]:
            self._outbox.append(Outgoing(queue_name, outgoing.body, outgoing.priority, deadline))
        self._ioloop.add_callback_threadsafe(self._flush)

    def _confirmed(self, frame) -> None:
        method = frame.method
        settled = [method.delivery_tag]
        if method.multiple:
            settled = [tag for tag in self._unconfirmed if tag <= method.delivery_tag]
        for tag in settled:
            outgoing = self._unconfirmed.pop(tag, None)
            if outgoing is None:
                continue
            if not isinstance(method, Basic.Ack):
                _fail([outgoing], "RabbitMQ refused the message (nack)")
            elif outgoing.returned:
                self._route_again(outgoing)
            else:
                self.watch.delivered(outgoing.queue_name, outgoing)
                if not outgoing.future.done():
                    outgoing.future.set_result(None)
        self._flush()

    def _route_again(self, outgoing: Outgoing) -> None:
        """Its queue was missing: declare it again and publish again, while time allows."""
        outgoing.returned, outgoing.attempts = False, outgoing.attempts + 1
        if outgoing.attempts >= MAX_ROUTING_ATTEMPTS or time.monotonic() >= outgoing.deadline:
            _fail([outgoing], "RabbitMQ could not route the message (its queue is missing)")
            return
        self._declared.discard(outgoing.queue_name)
        self._outbox.appendleft(outgoing)

    def _channel_closed(self, _channel, reason) -> None:
        log.warning("publishing channel closed: %s", reason)
        if self._connection is not None and self._connection.is_open:
            self._connection.close()

    def _lost(self, _connection, reason) -> None:
        if self.state == "open" and not self._closing:
            log.warning("RabbitMQ connection lost: %s", type(reason).__name__)
        self._channel = None
        unconfirmed, self._unconfirmed = list(self._unconfirmed.values()), {}
        _fail(unconfirmed, "no connection to RabbitMQ")  # they may or may not be queued
        self._failures += 1
        self._node = (self._node + 1) % len(self.nodes)
        if self._closing:
            _fail(self._drain_outbox(), "the publisher is closing")
            self._ioloop.stop()
        elif self._failures < len(self.nodes):
            self._connect()  # another node may take what we have not published yet
        else:
            self.state, self._down_at, self._failures = "down", time.monotonic(), 0
            _fail(self._drain_outbox(), "no connection to RabbitMQ")

    def _drain_outbox(self) -> list[Outgoing]:
        drained = []
        while self._outbox:
            drained.append(self._outbox.popleft())
        return drained

    def _shutdown(self) -> None:
        self._closing = True
        if self.state == "open" and self._connection is not None:
            self._connection.close()  # _lost stops the loop
        elif self.state != "connecting":
            self._ioloop.stop()
        # While connecting, pika can't be interrupted cleanly (closing mid-handshake trips
        # an assertion inside it): _ready or _lost finishes the shutdown.


def _fail(messages: list[Outgoing], reason: str) -> None:
    for outgoing in messages:
        if not outgoing.future.done():
            outgoing.future.set_exception(PublishFailed(reason))
