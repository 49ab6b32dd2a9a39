"""The pipelined publisher against the real RabbitMQ: every confirmed message is in the queue."""

import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from landing.shared.publisher import Publisher, PublishFailed
from landing.shared.queues import queue_declarations
from landing.shared.rabbitmq import with_timeouts
from tests.support.config import settings
from tests.support.services import wait_for
from tests.support.signups import message_carrying


def message(n: int):
    return message_carrying({"n": n}, f"00000000-0000-0000-0000-{n:012d}")


@pytest.fixture
def publisher(clean):
    publishing = Publisher(with_timeouts(settings.rabbitmq_url, 2.0), timeout=2.0)
    yield publishing
    publishing.close()


def test_many_threads_publish_at_once_and_every_message_is_queued(publisher, broker):
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda n: publisher.publish(message(n)), range(300)))
    depth = broker.channel.queue_declare("registrations", passive=True).method.message_count
    assert depth == 300


def test_queues_are_declared_as_dramatiq_declares_them(broker):
    declared = {
        name: arguments for name, arguments in queue_declarations("registrations", "classic")
    }
    assert declared["registrations"] == broker._build_queue_arguments("registrations")
    assert declared["registrations.DQ"] == broker._build_queue_arguments("registrations")
    assert set(declared) == {"registrations", "registrations.DQ", "registrations.XQ"}
    assert declared["registrations.XQ"] == {}  # no TTL: dead letters wait for an operator


def test_unreachable_broker_fails_fast_then_tries_again_later():
    publisher = Publisher("amqp://guest:guest@127.0.0.1:1/%2F?connection_attempts=1", 2.0)
    try:
        started = time.monotonic()
        with pytest.raises(PublishFailed):
            publisher.publish(message(1))
        with pytest.raises(PublishFailed, match="unreachable"):
            publisher.publish(message(2))  # within RECONNECT_DELAY: no new attempt
        assert time.monotonic() - started < 1.0
    finally:
        publisher.close()


def test_publish_later_does_not_wait_and_still_delivers(publisher, broker):
    for n in range(20):
        publisher.publish_later(message(n))

    def queued():
        return broker.channel.queue_declare("registrations", passive=True).method.message_count

    wait_for(lambda: queued() == 20)


def test_close_while_still_connecting_ends_the_io_thread_cleanly(monkeypatch):
    crashed = []
    monkeypatch.setattr(threading, "excepthook", crashed.append)
    with socket.socket() as silent:  # accepts TCP, never speaks AMQP: stuck in the handshake
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        publisher = Publisher(
            f"amqp://guest:guest@127.0.0.1:{port}/%2F?socket_timeout=1&stack_timeout=1", 2.0
        )
        publisher.publish_later(message(1))  # the link starts connecting
        link = publisher._link
        silent.settimeout(5)
        connection, _ = silent.accept()  # connected; the AMQP handshake now waits
        publisher.close()
        wait_for(lambda: not link.thread.is_alive(), timeout=15)
        connection.close()
    assert crashed == []
