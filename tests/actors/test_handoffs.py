"""A message is acked only once what replaces it is confirmed, against a real memory alarm.

The alarm is raised on a RabbitMQ node of the test's own (the shared node is never
reconfigured): while it holds, RabbitMQ blocks every connection that publishes, so a
retry's publish times out, while consuming and acking go on.
"""

import shutil
import tempfile
import threading
import uuid
from pathlib import Path

import dramatiq
import pytest
from dramatiq import Worker
from dramatiq.middleware import Retries

from harness.local import wait_until
from harness.rabbit import RabbitNode
from landing.shared.rabbitmq import LandingBroker, node_urls

QUEUE = "handoffs"


@pytest.fixture(scope="module")
def node():
    """A RabbitMQ node of our own, stopped and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="landing-handoffs-"))
    root.chmod(0o755)  # the rabbitmq user works below it
    rabbit = RabbitNode(f"handoffs-{uuid.uuid4().hex[:6]}", root)
    try:
        rabbit.start()
        rabbit.add_vhost("handoffs")
        yield rabbit
    finally:
        rabbit.destroy()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def alarm(node):
    """raise_() sets off a memory alarm; it is always cleared afterwards."""

    def set_watermark(value: str, firing: bool) -> None:
        node.ctl("set_vm_memory_high_watermark", value)
        assert wait_until(lambda: node.memory_alarm() == firing, 30), "alarm did not change"

    yield lambda firing: set_watermark("0.000001" if firing else "0.4", firing)
    node.ctl("set_vm_memory_high_watermark", "0.4")


def held(node) -> int:
    """Messages in the queue itself, ready or unacked."""
    rows = node.queues("handoffs", "messages_ready", "messages_unacknowledged")
    return sum(int(row[1]) + int(row[2]) for row in rows if row[0] == QUEUE)


def test_a_retry_that_cannot_be_published_leaves_its_message_in_its_queue(node, alarm):
    broker = LandingBroker(
        url=node_urls(node.url("handoffs"), 1.0),
        confirm_delivery=True,
        middleware=[Retries(min_backoff=100, max_backoff=200)],
    )
    store = {"down": True, "calls": 0, "stored": threading.Event()}

    def register():
        store["calls"] += 1
        if store["down"]:
            raise ConnectionError("the database is down")
        store["stored"].set()

    actor = dramatiq.actor(
        register, queue_name=QUEUE, retry_when=lambda retries, error: True, broker=broker
    )
    actor.send()
    alarm(True)  # publishers blocked from here on: no retry can be published
    worker = Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        # Each failure tries to publish its retry, times out, and puts the message back.
        assert wait_until(lambda: store["calls"] >= 3, 60), "the message was not seen again"
        assert held(node) == 1  # still in its queue, the one copy of the sign-up
        alarm(False)
        store["down"] = False
        assert store["stored"].wait(60), "the message was lost while the alarm held"
    finally:
        worker.stop()
        broker.close()
