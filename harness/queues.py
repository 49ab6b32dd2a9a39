"""Our queues on a RabbitMQ node, over AMQP: their vhost, their depth and consumers, purging."""

import subprocess

import pika

from harness.outages import outlasting_outages

QUEUES = ("registrations", "attempts")


def rabbitmqctl(*args: str) -> None:
    """`rabbitmqctl -q <args>` on the local node; CalledProcessError if it fails."""
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def ensure_vhost(url: str) -> None:
    """Create the vhost url names, open to guest, if RabbitMQ refuses us on it."""
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.ProbableAccessDeniedError:
        vhost = pika.URLParameters(url).virtual_host
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")


def _connect(url: str) -> pika.BlockingConnection:
    return outlasting_outages(lambda: pika.BlockingConnection(pika.URLParameters(url)))


def _queue_names() -> list[str]:
    return [name + suffix for name in QUEUES for suffix in ("", ".DQ", ".XQ")]


def purge_queues(url: str) -> None:
    """Empty every queue of ours that exists (a missing one closes the channel: reopen)."""
    connection = _connect(url)
    try:
        channel = connection.channel()
        for name in _queue_names():
            try:
                channel.queue_purge(name)
            except pika.exceptions.ChannelClosedByBroker:
                channel = connection.channel()
    finally:
        connection.close()


def queue_state(url: str, name: str) -> tuple[int, int]:
    """(ready messages, consumers) of a queue; (0, 0) when it does not exist yet."""
    connection = _connect(url)
    try:
        method = connection.channel().queue_declare(name, passive=True).method
        return method.message_count, method.consumer_count
    except pika.exceptions.ChannelClosedByBroker:
        return 0, 0
    finally:
        connection.close()
