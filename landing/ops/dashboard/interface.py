"""What dramatiq-dashboard reads and does, on RabbitMQ instead of Redis.

The same surface as dramatiq_dashboard's RedisInterface (pinned at 0.4.0): `queues`,
`workers`, `get_queue`, `get_jobs`, `get_job`, `delete_message`, plus `requeue_message`.
Counts and consumers come from the management API. Only dead letters (`q.XQ`, which no
worker consumes) are ever listed: they are fetched unacknowledged with basic_get and put back
in place before we answer. Live queues (`q`, `q.DQ`) show counts only, so the dashboard never
takes a message away from a worker. Every message shown has its phone numbers masked.
Queues RabbitMQ named itself (`amq.gen-...`, a publisher's private queue) are no task queues:
neither they nor their consumers are shown.
"""

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from operator import attrgetter

import pika
from dramatiq import Message
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.common import dq_name, q_name, xq_name
from dramatiq.errors import DecodeError
from dramatiq_dashboard.interface import Job, Queue, Worker
from pika.adapters.blocking_connection import BlockingChannel

from landing.ops.dashboard.management_api import ManagementAPI
from landing.shared.privacy import mask_phones_in

PAGE = 100  # dead letters per page; a page holds that many unacknowledged for a moment
# What Retries wrote into a message; a requeued message starts over without it.
RETRY_STATE = ("retries", "traceback", "requeue_timestamp", "eta")

Held = tuple[int, Message]  # a delivery tag and its decoded message


class RabbitmqInterface:
    """dramatiq-dashboard's data interface backed by RabbitMQ (AMQP + management API)."""

    def __init__(self, broker: RabbitmqBroker, api: ManagementAPI) -> None:
        self.broker = broker
        self.api = api

    @property
    def queues(self) -> list[Queue]:
        totals = self.api.queue_totals()
        names = {q_name(name) for name in totals if not _is_server_named(name)}
        return [_queue(name, totals) for name in sorted(names)]

    @property
    def workers(self) -> list[Worker]:
        """One row per consumer: its queue, its address, the messages it holds right now."""
        unacked = self.api.unacked_per_channel()
        now = datetime.now(UTC).replace(tzinfo=None)  # the templates compare naive UTC
        rows = []
        for consumer in self.api.consumers():
            if _is_server_named(consumer["queue"]["name"]):
                continue  # a publisher listening on its private queue, not a worker
            # The API gives [] instead of a dict for a channel it has no details of (yet).
            channel = consumer.get("channel_details") or {}
            channel = channel if isinstance(channel, dict) else {}
            peer = f"{channel.get('peer_host', '?')}:{channel.get('peer_port', '?')}"
            name = f"{consumer['queue']['name']} @ {peer}"
            in_flight = unacked.get(channel.get("name", ""), 0)  # "": no channel's name
            rows.append(Worker(name=name, last_seen=now, jobs_in_flight=in_flight))
        return sorted(rows, key=attrgetter("name"))

    def get_queue(self, queue_name: str) -> Queue:
        return _queue(q_name(queue_name), self.api.queue_totals())

    def get_jobs(self, queue_name: str, cursor: int = 0) -> tuple[int | None, list[Job]]:
        """A page of dead letters, oldest first; a live queue lists nothing (counts only)."""
        if not _is_dead_letters(queue_name):
            return None, []
        with self._holding(queue_name) as channel:
            held = list(self._take(channel, queue_name, limit=cursor + PAGE + 1))
        next_cursor = cursor + PAGE if len(held) > cursor + PAGE else None
        return next_cursor, [_display(message) for _, message in held[cursor : cursor + PAGE]]

    def get_job(self, queue_name: str, message_id: str) -> Job | None:
        if not _is_dead_letters(queue_name):
            return None
        with self._holding(queue_name) as channel:
            found = self._find(channel, queue_name, message_id)
        return _display(found[1]) if found else None

    def delete_message(self, queue_name: str, message_id: str) -> bool:
        """Remove one dead letter for good (ack it); the others go back in place."""
        if not _is_dead_letters(queue_name):
            return False
        with self._holding(queue_name) as channel:
            found = self._find(channel, queue_name, message_id)
            if found:
                channel.basic_ack(found[0])
        return found is not None

    def requeue_message(self, queue_name: str, message_id: str) -> Message | None:
        """Send a dead letter back to its queue with fresh retries, then drop it from q.XQ.

        Publish (confirmed) before ack: a crash in between leaves a duplicate, never a loss,
        and our actors are idempotent. The message keeps its id, so its status follows it.
        """
        if not _is_dead_letters(queue_name):
            return None
        with self._holding(queue_name) as channel:
            found = self._find(channel, queue_name, message_id)
            if not found:
                return None
            fresh = found[1].copy(queue_name=q_name(queue_name))
            for key in RETRY_STATE:
                fresh.options.pop(key, None)
            sent = self.broker.enqueue(fresh)
            channel.basic_ack(found[0])
        return sent

    @contextmanager
    def _holding(self, queue_name: str) -> Iterator[BlockingChannel]:
        """A channel of our own; what it takes and does not ack goes back in place.

        If we die meanwhile, RabbitMQ requeues them when the connection drops.
        """
        connection = pika.BlockingConnection(self.broker.parameters)
        try:
            channel = connection.channel()
            yield channel
            channel.basic_nack(delivery_tag=0, multiple=True, requeue=True)
            # A round trip after the nack: once it answers, the queue has them back.
            channel.queue_declare(queue_name, passive=True)
        finally:
            if connection.is_open:
                connection.close()

    @staticmethod
    def _take(
        channel: BlockingChannel, queue_name: str, limit: int | None = None
    ) -> Iterator[Held]:
        """Messages from the head of the queue, unacknowledged, until it is empty or limit."""
        taken = 0
        while limit is None or taken < limit:
            got = channel.basic_get(queue_name, auto_ack=False)
            if got[0] is None:
                return
            method, _, body = got
            taken += 1
            try:
                message = Message.decode(body)
            except DecodeError:
                continue  # not a Dramatiq message: held, and put back with the rest
            # pika's stubs allow a GetOk without a delivery tag; one from the broker has it.
            yield method.delivery_tag, message  # type: ignore[misc]

    def _find(self, channel: BlockingChannel, queue_name: str, message_id: str) -> Held | None:
        for tag, message in self._take(channel, queue_name):
            if message.message_id == message_id:
                return tag, message
        return None


def _queue(name: str, totals: dict[str, int]) -> Queue:
    return Queue(
        name=name,
        jobs=totals.get(name, 0),
        jobs_delayed=totals.get(dq_name(name), 0),
        jobs_dead=totals.get(xq_name(name), 0),
    )


def _is_server_named(queue_name: str) -> bool:
    """A queue declared without a name, which RabbitMQ calls amq.gen-...: the publishers' own.
    Clients may not declare names starting with amq., so no task queue, ours today or one
    an older version left behind with its dead letters, is ever hidden by this."""
    return queue_name.startswith("amq.")


def _is_dead_letters(queue_name: str) -> bool:
    return queue_name == xq_name(queue_name)


def _display(message: Message) -> Job:
    """The Job the templates render: the message with its phone numbers masked."""
    masked = dataclasses.replace(
        message,
        args=tuple(mask_phones_in(list(message.args))),
        kwargs=mask_phones_in(dict(message.kwargs)),
        options=mask_phones_in(dict(message.options)),
    )
    return Job.from_message(masked)
