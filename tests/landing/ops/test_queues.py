"""Queue arguments on the real RabbitMQ: dead letters that never expire, the migration that
gets existing queues there, and quorum queues.

A queue's arguments can't be read over AMQP, but they can be checked: a declare with the
queue's own arguments succeeds, one with other arguments is refused (PRECONDITION_FAILED).
"""

import uuid

import pika
import pytest
from dramatiq.brokers.rabbitmq import DEAD_MESSAGE_TTL

from landing.ops.queue_migration import HOLDING_SUFFIX, MigrationRefused, migrate_queues
from landing.shared.publisher import Publisher
from landing.shared.queues import queue_declarations
from landing.shared.rabbitmq import LandingBroker
from tests.support.config import settings
from tests.support.signups import message_carrying

PROBE = "migration_probe"
OLD_DEAD_LETTERS = {"x-message-ttl": DEAD_MESSAGE_TTL}  # what dramatiq itself declares


@pytest.fixture
def channel(broker):
    connection = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    yield connection.channel()
    cleanup = connection.channel()
    for name in (PROBE, f"{PROBE}.DQ", f"{PROBE}.XQ", f"{PROBE}.XQ{HOLDING_SUFFIX}"):
        cleanup.queue_delete(name)
    connection.close()


def declares(name: str, arguments: dict, url: str = settings.rabbitmq_url) -> bool:
    """Whether name accepts a declare with arguments (it is created if missing)."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        connection.channel().queue_declare(name, durable=True, arguments=arguments)
        return True
    except pika.exceptions.ChannelClosedByBroker as error:
        assert error.reply_code == 406
        return False
    finally:
        connection.close()


def publish(channel, queue: str, bodies: list[bytes]) -> None:
    for body in bodies:
        channel.basic_publish("", queue, body, pika.BasicProperties(delivery_mode=2))


def drain(channel, queue: str) -> list[bytes]:
    bodies = []
    while (got := channel.basic_get(queue, auto_ack=True))[0] is not None:
        bodies.append(got[2])
    return bodies


def migrate() -> list[str]:
    return migrate_queues([pika.URLParameters(settings.rabbitmq_url)], [PROBE], "classic")


def test_registration_dead_letters_have_no_ttl(broker):
    assert broker.get_queue_message_counts("registrations") is not None  # declares all three
    assert not declares("registrations.XQ", OLD_DEAD_LETTERS)
    assert declares("registrations.XQ", {})


def test_migration_rebuilds_dead_letters_with_a_ttl_and_keeps_their_messages(channel):
    channel.queue_declare(f"{PROBE}.XQ", durable=True, arguments=OLD_DEAD_LETTERS)
    publish(channel, f"{PROBE}.XQ", [b"first", b"second", b"third"])

    changes = migrate()

    assert changes == [f"{PROBE}.XQ: declared with new arguments (3 messages kept)"]
    assert declares(f"{PROBE}.XQ", {}) and not declares(f"{PROBE}.XQ", OLD_DEAD_LETTERS)
    assert drain(channel, f"{PROBE}.XQ") == [b"first", b"second", b"third"]
    assert migrate() == []  # idempotent: nothing left to change


def test_migration_finishes_what_an_interrupted_run_left_in_the_holding_queue(channel):
    channel.queue_declare(f"{PROBE}.XQ{HOLDING_SUFFIX}", durable=True)
    publish(channel, f"{PROBE}.XQ{HOLDING_SUFFIX}", [b"moved-aside"])

    assert migrate() == [f"{PROBE}.XQ: 1 messages moved back from {PROBE}.XQ{HOLDING_SUFFIX}"]
    assert drain(channel, f"{PROBE}.XQ") == [b"moved-aside"]


def test_migration_refuses_a_queue_with_consumers(channel):
    channel.queue_declare(f"{PROBE}.XQ", durable=True, arguments=OLD_DEAD_LETTERS)
    channel.basic_consume(f"{PROBE}.XQ", lambda *args: None)
    with pytest.raises(MigrationRefused, match="stop the workers"):
        migrate()


def test_quorum_queues_declared_alike_by_publisher_and_broker(scratch_vhost):
    quorum_url = scratch_vhost  # quorum queues run on a single node too
    message = message_carrying({"n": 1}, str(uuid.uuid4()))
    publisher = Publisher(quorum_url, timeout=5.0, queue_type="quorum")
    broker = LandingBroker(url=quorum_url, confirm_delivery=True, queue_type="quorum")
    try:
        publisher.publish(message)  # the web declares first ...
        broker.enqueue(message, delay=60_000)  # ... and a worker's declare agrees with it
        counts = broker.get_queue_message_counts("registrations")
    finally:
        publisher.close()
        broker.close()
    assert counts == (1, 1, 0)
    for name, arguments in queue_declarations("registrations", "quorum"):
        assert arguments.get("x-queue-type") == "quorum"
        assert "x-max-priority" not in arguments
        assert declares(name, arguments, quorum_url)
        assert not declares(name, {}, quorum_url)  # a classic declare is refused: quorum it is
