"""Reading what RabbitMQ holds, as a test checks it."""

import subprocess

from tests.support.config import VHOST


def take_all(broker, queue: str, timeout_ms: int = 200) -> list:
    """Every message in queue (acknowledged, so gone), waiting timeout_ms for the next one."""
    consumer = broker.consume(queue, timeout=timeout_ms)
    messages = []
    while (message := next(consumer)) is not None:
        messages.append(message)
        consumer.ack(message)
    consumer.close()
    return messages


def queue_counts(name: str) -> tuple[int, int]:
    """The tests' queue name's (ready, unacked) messages, as RabbitMQ counts them (AMQP
    cannot see the unacked ones)."""
    columns = ["name", "messages_ready", "messages_unacknowledged", "--no-table-headers"]
    out = subprocess.run(
        ["rabbitmqctl", "-q", "list_queues", "-p", VHOST, *columns],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    return next(((int(r[1]), int(r[2])) for r in rows if r[0] == name), (0, 0))
