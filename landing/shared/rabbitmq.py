"""Dramatiq's RabbitmqBroker, made to keep landing's promise: no message silently dropped.

dramatiq 2.2 publishes `mandatory` when it waits for confirms (every broker here does:
confirm_delivery defaults to True), so a message whose queue is missing comes back as
unroutable and is published again after its queue is declared again (Retries' delayed
messages and the dashboard's requeues go through that). On top of dramatiq's broker:
- A consumer declares its queues every time it (re)starts: dramatiq declares again only
  after a consume failed with NOT_FOUND, so a queue deleted under a running worker (or a
  delay queue consumed before its queue was declared, on a first start) would cost a failed
  consumer and a restart first.
- Queues are declared with landing.shared.queues' arguments: no TTL on dead letters, and quorum
  queues when RABBITMQ_QUEUE_TYPE=quorum (dramatiq core has no option for either).
- A message that failed for good reaches its dead letters as it failed, with its traceback
  (landing.shared.consumer).
- A message is acked only once what replaces it is confirmed. dramatiq logs and swallows
  an exception raised by a middleware after a message was processed, then acks it: when
  Retries could not publish the retry (a memory alarm blocking publishers, a lost
  connection), the sign-up was gone. Here such a message goes back to its queue instead.
"""

from functools import partial
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pika
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.common import q_name, xq_name
from dramatiq.errors import BrokerConnectionError

from landing.shared.confirmed_link import PublishFailed
from landing.shared.consumer import DeadLetteringConsumer, put_back
from landing.shared.queues import dead_letter_arguments, queue_arguments
from landing.shared.settings import Settings

# What a failed hand-off raises: the broker (or our publisher) could not confirm a message
# that was to replace the one being processed (a retry, a forward).
HANDOFF_FAILURES = (BrokerConnectionError, pika.exceptions.AMQPError, PublishFailed)
# After-hooks that run before the worker acks the message they were given.
BEFORE_ACK = ("process_message", "skip_message")


def with_timeouts(url: str, seconds: float) -> str:
    """Bound every way pika can hang: dead socket, silent broker, memory-alarm block.

    Values already in the URL win, so an operator can tune them without code.
    """
    parts = urlsplit(url)
    query = {
        "connection_attempts": "1",
        "socket_timeout": str(seconds),
        "stack_timeout": str(seconds),
        "blocked_connection_timeout": str(seconds),
        **dict(parse_qsl(parts.query)),
    }
    return urlunsplit(parts._replace(query=urlencode(query)))


def node_urls(urls: str, seconds: float) -> list[str]:
    """RABBITMQ_URL's nodes (comma-separated), each with timeouts; clients try them in turn."""
    return [with_timeouts(url.strip(), seconds) for url in urls.split(",") if url.strip()]


def node_parameters(urls: str, seconds: float) -> list[pika.URLParameters]:
    """node_urls as pika's connection parameters (BlockingConnection tries them in turn)."""
    return [pika.URLParameters(url) for url in node_urls(urls, seconds)]


def publishing_broker(config: Settings) -> "LandingBroker":
    """A broker without middleware, for processes that only publish (the dashboard's requeue).

    It waits for publisher confirms and fails over between nodes, as the workers' does.
    """
    return LandingBroker(
        url=node_urls(config.rabbitmq_url, config.publish_timeout),
        middleware=[],
        queue_type=config.rabbitmq_queue_type,
    )


class LandingBroker(RabbitmqBroker):
    """A RabbitmqBroker with confirmed, mandatory publishes, self-healing consumers and typed
    queues."""

    def __init__(
        self, *, queue_type: str = "classic", confirm_delivery: bool = True, **kwargs
    ) -> None:
        super().__init__(confirm_delivery=confirm_delivery, **kwargs)
        self.queue_type = queue_type

    @property
    def consumer_class(self):
        return partial(DeadLetteringConsumer, queue_type=self.queue_type)

    def _build_queue_arguments(self, queue_name: str) -> dict:
        return queue_arguments(q_name(queue_name), self.queue_type)

    def _declare_xq_queue(self, queue_name: str):
        arguments = dead_letter_arguments(self.queue_type)
        return self.channel.queue_declare(xq_name(queue_name), durable=True, arguments=arguments)

    def consume(self, queue_name: str, prefetch: int = 1, timeout: int = 5000):
        """A consumer on queue_name, after declaring its queue family again (cheap, idempotent)."""
        canonical = q_name(queue_name)
        self.declare_queue(canonical)  # registers it on first use, as dramatiq does
        self.queues_pending.add(canonical)  # and declares it on the server now, every time
        self._ensure_queue(canonical)
        return self.consumer_class(self, queue_name, prefetch, timeout)

    def emit_after(self, signal: str, *args, **kwargs) -> None:
        """dramatiq's emit_after, except that a message about to be acked goes back to its
        queue instead when a hook could not hand on what replaces it (see put_back), or
        never returned (an interrupt raised inside it)."""
        message = args[0] if signal in BEFORE_ACK else None
        handed_on = True
        for middleware in reversed(self.middleware):
            if message is not None:
                message.put_back = True  # until the hook returns
            try:
                getattr(middleware, f"after_{signal}")(self, *args, **kwargs)
            except Exception as error:
                if message is not None and isinstance(error, HANDOFF_FAILURES):
                    handed_on = False
                    put_back(message, middleware, error)
                else:
                    self.logger.critical(
                        "Unexpected failure in after_%s of %r.", signal, middleware, exc_info=True
                    )
            if message is not None:
                message.put_back = not handed_on
