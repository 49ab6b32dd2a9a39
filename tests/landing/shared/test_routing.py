"""Messages RabbitMQ could not route are never taken as delivered (the real RabbitMQ).

A queue can vanish under running processes (deleted in the management UI, a vhost reset, a
node that held it gone). RabbitMQ confirms a non-mandatory publish to a missing queue and
drops it; ours are mandatory, come back, and go out again after the queue is declared.
"""

import json
import logging
import subprocess
import time
import uuid

import dramatiq
import pika

from harness.local import free_port
from landing.shared.publisher import Publisher
from landing.shared.queue_watch import VANISHED
from tests.support.config import child_environment, settings
from tests.support.processes import WORKER
from tests.support.services import wait_for
from tests.support.signups import attempt as support_attempt
from tests.support.signups import message_carrying


def depth(broker, queue: str) -> int:
    return broker.channel.queue_declare(queue, passive=True).method.message_count


def queued_ids(broker, queue: str) -> list[str]:
    """The message ids waiting in queue (taken off it)."""
    ids = []
    while (got := broker.channel.basic_get(queue, auto_ack=True))[0] is not None:
        ids.append(dramatiq.Message.decode(got[2]).message_id)
    return ids


def queued_signups(broker, queue: str) -> list[str]:
    """The request_ids of the sign-ups the register_batch messages waiting in queue carry."""
    found = []
    while (got := broker.channel.basic_get(queue, auto_ack=True))[0] is not None:
        message = dramatiq.Message.decode(got[2])
        found += [signup["request_id"] for signup in message.args[0]]
    return found


def delete_queue(broker, queue: str) -> None:
    broker.channel.queue_delete(queue)


def attempt(n: int) -> dict:
    return support_attempt(
        f"0913{n:07d}",
        request_id=str(uuid.UUID(int=0xABC000 + n)),
        referrer=None,
        ip=None,
        user_agent=None,
    )


def test_queue_deleted_under_a_running_web_every_202_is_in_the_queue(client, broker):
    post = lambda phone: client.post(  # noqa: E731
        "/api/register/", data=json.dumps({"phone": phone}), content_type="application/json"
    )
    first = post("09130000000")
    assert first.status_code == 202  # the web has declared the queue
    delete_queue(broker, "registrations")
    answers = [post(f"0913000000{n}") for n in range(1, 6)]
    assert [answer.status_code for answer in answers] == [202] * 5
    accepted = {answer.json["request_id"] for answer in answers}
    # Every 202 is a message in the queue; the one sent just before the delete is sent again
    # too (the delete may have taken it), a copy the worker stores once. (Other publishers
    # still open in this process may add copies of their own recent messages.)
    assert {*accepted, first.json["request_id"]} <= set(queued_signups(broker, "registrations"))


def test_publisher_declares_a_deleted_queue_again_and_its_messages_arrive(clean, broker):
    publisher = Publisher(settings.rabbitmq_url, timeout=2.0)
    try:
        publisher.publish(message_carrying(attempt(0)))
        delete_queue(broker, "registrations")
        for n in range(1, 4):
            publisher.publish(message_carrying(attempt(n)))
        wait_for(lambda: depth(broker, "registrations") >= 4)  # 3, and 0 sent again
    finally:
        publisher.close()
    expected = [attempt(n)["request_id"] for n in range(4)]
    assert set(expected) <= set(queued_ids(broker, "registrations"))


def test_a_process_whose_messages_never_came_back_still_sends_again(clean, broker):
    """Two web processes: the delete takes B's message; only A's next one comes back. A
    announces the queue vanished, and B sends its recent message again."""
    holder = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    channel = holder.channel()
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume("registrations", lambda *args: None)  # a worker that holds one
    a = Publisher(settings.rabbitmq_url, timeout=2.0)
    b = Publisher(settings.rabbitmq_url, timeout=2.0)
    try:
        b.publish(message_carrying(attempt(1)))  # held
        a.publish(message_carrying(attempt(2)))  # waiting
        wait_for(lambda: a._link.watch.listening and b._link.watch.listening)
        delete_queue(broker, "registrations")  # takes both with it
        holder.close()
        a.publish(message_carrying(attempt(3)))  # comes back
        expected = {attempt(n)["request_id"] for n in (1, 2, 3)}
        seen: set[str] = set()

        def all_queued() -> bool:  # copies count once; taking them off is fine here
            seen.update(queued_ids(broker, "registrations"))
            return expected <= seen

        wait_for(all_queued, timeout=5)
    finally:
        a.close()
        b.close()
    assert expected <= seen


def test_a_worker_whose_queue_is_deleted_announces_it_to_every_publisher(worker, broker):
    listener = pika.BlockingConnection(pika.URLParameters(settings.rabbitmq_url))
    channel = listener.channel()
    channel.exchange_declare(VANISHED, exchange_type="fanout", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, VANISHED)
    try:
        wait_for(lambda: depth_consumers(broker, "registrations") > 0, timeout=10)
        delete_queue(broker, "registrations")
        announced = wait_for(lambda: channel.basic_get(queue, auto_ack=True)[2], timeout=10)
    finally:
        listener.close()
    assert announced == b"registrations"


def depth_consumers(broker, queue: str) -> int:
    return broker.channel.queue_declare(queue, passive=True).method.consumer_count


def test_retries_delayed_publish_declares_a_deleted_delay_queue_again(clean, broker):
    message = message_carrying(attempt(1))
    broker.enqueue(message, delay=60_000)
    delete_queue(broker, "registrations.DQ")
    broker.enqueue(message, delay=60_000)  # dramatiq's own enqueue confirmed and dropped this
    assert depth(broker, "registrations.DQ") == 1


def test_worker_recovers_from_a_deleted_queue_without_critical_logs(client, worker, broker, caplog):
    from landing.shared.db import Registration

    caplog.set_level(logging.INFO, logger="dramatiq")
    delete_queue(broker, "registrations")
    response = client.post(
        "/api/register/",
        data=json.dumps({"phone": "09131234567"}),
        content_type="application/json",
    )
    assert response.status_code == 202
    request_id = response.json["request_id"]
    wait_for(lambda: Registration.get_or_none(Registration.request_id == request_id), timeout=20)
    critical = [r for r in caplog.records if r.levelno >= logging.CRITICAL]
    assert critical == [], [r.getMessage() for r in critical]


def test_publisher_fails_over_to_the_next_node(clean, broker):
    dead = f"amqp://guest:guest@127.0.0.1:{free_port()}/{settings.rabbitmq_url.rsplit('/', 1)[1]}"
    publisher = Publisher([dead, settings.rabbitmq_url], timeout=2.0)
    try:
        publisher.publish(message_carrying(attempt(7)))
    finally:
        publisher.close()
    assert attempt(7)["request_id"] in queued_ids(broker, "registrations")


def test_first_start_on_an_empty_broker_logs_no_critical_not_found(scratch_vhost, tmp_path):
    log = tmp_path / "worker.log"
    env = child_environment(RABBITMQ_URL=scratch_vhost, WORKER_METRICS_PORT=str(free_port()))
    with log.open("w") as output:
        process = subprocess.Popen(
            [*WORKER, "--processes", "1", "--threads", "2"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=env,
        )
        try:
            wait_for(lambda: _consumers(scratch_vhost) >= 4, timeout=30)
            time.sleep(1)  # a consumer that failed would log within this second
        finally:
            process.terminate()
            process.wait(timeout=30)
    text = log.read_text()
    assert "CRITICAL" not in text and "NOT_FOUND" not in text, text


def _consumers(url: str) -> int:
    """Consumers on registrations, attempts and their delay queues, once they all exist."""
    connection = pika.BlockingConnection(pika.URLParameters(url))
    try:
        channel = connection.channel()
        total = 0
        for queue in ("registrations", "registrations.DQ", "attempts", "attempts.DQ"):
            total += channel.queue_declare(queue, passive=True).method.consumer_count
        return total
    except pika.exceptions.ChannelClosedByBroker:
        return 0
    finally:
        connection.close()
