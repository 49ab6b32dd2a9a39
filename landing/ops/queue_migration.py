"""Bringing existing RabbitMQ queues to the arguments landing.shared.queues declares.

RabbitMQ never changes a queue's arguments: a declare with other arguments is refused
(PRECONDITION_FAILED). So a queue whose arguments differ (the dead letters' old 7-day TTL,
or classic to quorum) is rebuilt: its messages are moved to a holding queue, the queue is
deleted and declared anew, and the messages are moved back. Every step may be interrupted
and the whole run again: a holding queue left behind is emptied into its queue by the next
run. Each message is moved at least once (published, confirmed, and only then acked), so
an interruption can duplicate one but never lose one; the actors are idempotent.

Run it with the workers stopped: a queue with consumers is refused, because deleting it
would drop the messages they hold unacknowledged. Publishers may keep running: a publish
that finds the queue missing for that moment comes back to them and is retried.
"""

from collections.abc import Iterable

import pika
from pika.adapters.blocking_connection import BlockingChannel, BlockingConnection
from pika.exceptions import ChannelClosedByBroker

from landing.shared.queues import queue_declarations

HOLDING_SUFFIX = ".migrating"
MAX_ROUNDS = 5  # a publisher running old code could declare the old queue back meanwhile
NOT_FOUND, PRECONDITION_FAILED = 404, 406


class MigrationRefused(Exception):
    """A queue can't be rebuilt safely now (consumers attached, or it keeps changing back)."""


def migrate_queues(
    nodes: list[pika.URLParameters], queue_names: Iterable[str], queue_type: str
) -> list[str]:
    """Give every queue of each actor queue its declared arguments; a line per change made."""
    connection = pika.BlockingConnection(nodes)
    try:
        return [
            line
            for queue_name in sorted(queue_names)
            for name, arguments in queue_declarations(queue_name, queue_type)
            for line in _migrate(connection, name, arguments)
        ]
    finally:
        connection.close()


def _migrate(connection: BlockingConnection, name: str, arguments: dict) -> list[str]:
    lines = []
    for _ in range(MAX_ROUNDS):
        if _declares(connection, name, arguments):
            moved = _empty_holding(connection, name)
            if moved:
                lines.append(f"{name}: {moved} messages moved back from {name}{HOLDING_SUFFIX}")
            return lines
        moved = _rebuild(connection, name, arguments)
        lines.append(f"{name}: declared with new arguments ({moved} messages kept)")
    raise MigrationRefused(f"{name} keeps being declared with other arguments")


def _declares(connection: BlockingConnection, name: str, arguments: dict) -> bool:
    """Declare name with arguments (creating it if missing); False if it has other ones."""
    channel = connection.channel()
    try:
        channel.queue_declare(name, durable=True, arguments=arguments)
    except ChannelClosedByBroker as error:
        if error.reply_code == PRECONDITION_FAILED:
            return False
        raise
    channel.close()
    return True


def _rebuild(connection: BlockingConnection, name: str, arguments: dict) -> int:
    """Move name's messages aside, declare it anew, move them back; how many were kept."""
    channel = _confirming(connection)
    consumers = channel.queue_declare(name, passive=True).method.consumer_count
    if consumers:
        raise MigrationRefused(f"{name} has {consumers} consumers: stop the workers first")
    holding = name + HOLDING_SUFFIX
    channel.queue_declare(holding, durable=True)
    moved = _move(channel, name, holding)
    try:
        channel.queue_delete(name, if_unused=True, if_empty=True)
    except ChannelClosedByBroker as error:
        if error.reply_code != PRECONDITION_FAILED:
            raise
        return moved  # a message (or a consumer) arrived meanwhile: the next round moves it
    channel.queue_declare(name, durable=True, arguments=arguments)
    _move(channel, holding, name)
    channel.queue_delete(holding, if_empty=True)
    channel.close()
    return moved


def _empty_holding(connection: BlockingConnection, name: str) -> int:
    """Move back what an interrupted run left in name's holding queue; how many."""
    channel = _confirming(connection)
    holding = name + HOLDING_SUFFIX
    try:
        channel.queue_declare(holding, passive=True)
    except ChannelClosedByBroker as error:
        if error.reply_code == NOT_FOUND:
            return 0
        raise
    moved = _move(channel, holding, name)
    channel.queue_delete(holding, if_empty=True)
    channel.close()
    return moved


def _confirming(connection: BlockingConnection) -> BlockingChannel:
    channel = connection.channel()
    channel.confirm_delivery()  # a publish returns once the target holds the message
    return channel


def _move(channel: BlockingChannel, source: str, target: str) -> int:
    """Move every ready message from source to target, in order, acking each once it is safe."""
    moved = 0
    while True:
        got = channel.basic_get(source, auto_ack=False)
        if got[0] is None:
            return moved
        method, properties, body = got
        channel.basic_publish("", target, body, properties, mandatory=True)
        # pika's stubs allow a GetOk without a delivery tag; one from the broker has it.
        channel.basic_ack(method.delivery_tag)  # type: ignore[arg-type]
        moved += 1
