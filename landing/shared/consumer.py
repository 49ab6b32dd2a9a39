"""How a worker's message leaves its queue: acked, put back, or filed in its dead letters.

dramatiq's RabbitMQ consumer, changed in two ways:
- A message marked by put_back (its successor could not be handed to RabbitMQ) is nacked
  with requeue instead of acked: it stays the one copy of what it carries.
- A message that failed for good reaches its dead letters as it failed, with the
  traceback and retry count Retries gave it: RabbitMQ's own dead-lettering (a nack) keeps
  the message as first delivered, so one never retried (bad data) would carry no reason.
"""

import logging
import time
from functools import partial

import pika
from dramatiq.brokers.rabbitmq import _RabbitmqConsumer
from dramatiq.common import xq_name
from dramatiq.errors import ConnectionClosed

from landing.shared.queue_watch import announce_vanished
from landing.shared.queues import dead_letter_arguments

log = logging.getLogger(__name__)

# Seconds a worker thread waits before its message goes back to the queue: while RabbitMQ
# blocks publishers, a message requeued at once would come straight back and fail again.
REQUEUE_PAUSE = 1.0


def put_back(message, middleware, error: Exception) -> None:
    """Say why message goes back to its queue (its put_back mark) and pause its thread first.

    The message stays the one copy of what it carries until a later delivery hands it on.
    """
    log.warning(
        "message %s goes back to its queue: %s could not hand it on (%s)",
        message.message_id,
        type(middleware).__name__,
        type(error).__name__,
    )
    time.sleep(REQUEUE_PAUSE)


class DeadLetteringConsumer(_RabbitmqConsumer):
    """dramatiq's consumer, whose nack files the failed message, as it failed, in `.XQ`,
    and whose ack puts a message marked by put_back back in its queue."""

    def __init__(self, broker, queue_name, prefetch, timeout, *, queue_type: str) -> None:
        super().__init__(broker, queue_name, prefetch, timeout)
        self.dead_letters = xq_name(queue_name)
        self.queue_type = queue_type
        self.channel.confirm_delivery()  # the dead letter is safe before the original goes

    def __next__(self):
        try:
            message = super().__next__()
        except StopIteration:
            # pika ends the generator when the broker cancels the consumer: its queue was
            # deleted (or its node is gone). Publishers may have had messages acked into it.
            self._announce_vanished()
            raise
        if message is not None:
            # A delivery tag means something on its own channel only. dramatiq settles a
            # message on whatever consumer its thread has by then: after a reconnect, the
            # old tag would name another, unprocessed message of the new channel.
            message.consumer = self
        return message

    def _stale(self, message) -> bool:
        """True when message came from an earlier channel (RabbitMQ requeued it when that
        channel closed): settling it here would settle another message."""
        if getattr(message, "consumer", self) is self:
            return False
        log.warning("message %s not settled: its channel is gone (requeued)", message.message_id)
        return True

    def _announce_vanished(self) -> None:
        try:
            announce_vanished(self.channel, self.queue_name)
        except pika.exceptions.AMQPError as error:
            log.warning("could not announce that %s vanished: %s", self.queue_name, error)

    def ack(self, message) -> None:
        if self._stale(message):
            return None
        if not getattr(message, "put_back", False):
            return super().ack(message)
        return self._requeue(message)

    def _requeue(self, message) -> None:
        try:
            self.known_tags.remove(message._tag)
            requeue = partial(self.channel.basic_nack, message._tag, requeue=True)
            self.connection.add_callback_threadsafe(requeue)
        except KeyError:
            self.logger.warning("Failed to requeue message: not in known tags.")
        except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError) as e:
            raise ConnectionClosed(e) from None
        # (If the connection is gone, RabbitMQ requeues every unacked message anyway.)

    def nack(self, message) -> None:
        """Publish message with its options to the dead letters, then ack the original."""
        if self._stale(message):
            return None
        if getattr(message, "put_back", False):
            return self._requeue(message)
        options = message.options
        if "traceback" in options and options.get("retries"):
            # Retries counted the failure that ended it as one more retry; the dead letter
            # says how many it really had (0 for bad data, which is never retried).
            options["retries"] -= 1
        body = message._message.encode()
        try:
            self.known_tags.remove(message._tag)
            self.connection.add_callback_threadsafe(
                partial(self._dead_letter, message._tag, message.message_id, body)
            )
        except KeyError:
            self.logger.warning("Failed to nack message: not in known tags.")
        except (pika.exceptions.AMQPConnectionError, pika.exceptions.AMQPChannelError) as e:
            raise ConnectionClosed(e) from None

    def _dead_letter(self, tag: int, message_id: str, body: bytes) -> None:
        # Runs on the consumer's connection, where pika may be touched. Published first
        # (declared, mandatory, confirmed), acked after: a crash between leaves a copy in
        # both queues, never none. If publishing fails, RabbitMQ dead-letters the original.
        try:
            arguments = dead_letter_arguments(self.queue_type)
            self.channel.queue_declare(self.dead_letters, durable=True, arguments=arguments)
            properties = pika.BasicProperties(delivery_mode=2)
            self.channel.basic_publish("", self.dead_letters, body, properties, mandatory=True)
        except pika.exceptions.AMQPError:
            log.warning("dead letter %s not filed with its traceback; nacked", message_id)
            self.channel.basic_nack(tag, requeue=False)
            return
        self.channel.basic_ack(tag)
