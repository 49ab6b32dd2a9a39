"""How many messages wait in each RabbitMQ queue, for the web's /metrics.

Read at scrape time with a passive queue_declare (plain AMQP, no management plugin) and
kept a few seconds, so frequent or parallel scrapes cost RabbitMQ one connection at most
every MAX_AGE seconds per process. When RabbitMQ does not answer within TIMEOUT the gauges
are left out of that scrape (Prometheus sees them absent); /metrics itself still answers.
"""

import logging
import threading
import time
from collections.abc import Iterable, Iterator

import pika
import pika.exceptions
from dramatiq.common import dq_name, q_name, xq_name
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from landing.shared.rabbitmq import node_parameters

log = logging.getLogger(__name__)

TIMEOUT = 1.0  # seconds RabbitMQ has to answer during a scrape
MAX_AGE = 5.0  # seconds a reading is reused


class _QueueNotFoundIsExpected(logging.Filter):
    """A queue no worker has declared yet answers 404, and pika warns each time; not news."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        missing_queue = args[:1] == (404,) and "no queue" in str(args[1:2])
        return not (missing_queue and str(record.msg).startswith("Received remote Channel.Close"))


_QUIET_404 = _QueueNotFoundIsExpected()


def queue_names(declared: Iterable[str]) -> list[str]:
    """Each actor queue with its delay (.DQ) and dead-letter (.XQ) queues."""
    names = sorted({q_name(name) for name in declared})
    return [name for queue in names for name in (queue, dq_name(queue), xq_name(queue))]


class QueueDepths(Collector):
    """Gauges landing_queue_messages_ready and landing_queue_consumers, by queue."""

    def __init__(self, rabbitmq_url: str, queues: list[str]) -> None:
        self.nodes = node_parameters(rabbitmq_url, TIMEOUT)
        self.queues = queues
        self._lock = threading.Lock()
        self._read_at = float("-inf")
        self._depths: dict[str, tuple[int, int]] = {}
        logging.getLogger("pika.channel").addFilter(_QUIET_404)  # once: same filter object

    def describe(self) -> list:
        return []  # nothing to check at registration, and no RabbitMQ round trip then

    def collect(self) -> Iterator[GaugeMetricFamily]:
        depths = self.read()
        if not depths:
            return
        ready = GaugeMetricFamily(
            "landing_queue_messages_ready",
            "Messages waiting in a RabbitMQ queue for a worker (DQ: retries not yet due "
            "while no worker holds them; XQ: dead letters).",
            labels=["queue"],
        )
        consumers = GaugeMetricFamily(
            "landing_queue_consumers", "Consumers (worker processes) of a queue.", labels=["queue"]
        )
        for queue, (count, consumer_count) in depths.items():
            ready.add_metric([queue], count)
            consumers.add_metric([queue], consumer_count)
        yield ready
        yield consumers

    def read(self) -> dict[str, tuple[int, int]]:
        """Messages ready and consumers per queue, at most MAX_AGE seconds old; {} if unknown."""
        with self._lock:  # one reading at a time; parallel scrapes share it
            if time.monotonic() - self._read_at >= MAX_AGE:
                self._depths = self._ask_rabbitmq()
                self._read_at = time.monotonic()
            return self._depths

    def _ask_rabbitmq(self) -> dict[str, tuple[int, int]]:
        try:
            connection = pika.BlockingConnection(self.nodes)
        except Exception as error:
            log.warning("queue depths unavailable: %s", type(error).__name__)
            return {}
        try:
            return self._declare_passively(connection)
        except Exception as error:
            log.warning("queue depths unavailable: %s", type(error).__name__)
            return {}
        finally:
            if connection.is_open:
                connection.close()

    def _declare_passively(self, connection) -> dict[str, tuple[int, int]]:
        depths = {}
        channel = None
        for queue in self.queues:
            if channel is None or channel.is_closed:
                channel = connection.channel()
            try:
                ok = channel.queue_declare(queue, passive=True).method
            except pika.exceptions.ChannelClosedByBroker:
                continue  # 404: no worker has declared it yet (and the channel is closed)
            depths[queue] = (ok.message_count, ok.consumer_count)
        return depths
