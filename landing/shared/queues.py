"""How landing's RabbitMQ queues are declared, in one place for every process that declares.

The web's publisher, the workers' broker and `flask --app landing migrate-queues` must
declare each queue with exactly the same arguments: RabbitMQ refuses a declare whose
arguments differ from the queue's (PRECONDITION_FAILED closes the channel).

Each actor queue `q` comes with `q.DQ` (retries waiting for their eta) and `q.XQ` (dead
letters: messages that failed for good). Dead letters have no TTL: a sign-up that failed
for good stays until an operator requeues or deletes it in the dashboard.

With RABBITMQ_QUEUE_TYPE=quorum every queue is a quorum queue (replicated across a
cluster's nodes). Quorum queues take no `x-max-priority` (we never set one) and count
redeliveries: a message handed out DELIVERY_LIMIT times without an ack (a worker crashing
on it again and again) is dead-lettered instead of crashing workers forever. Retries don't
count towards it: each retry is a new message. But a worker restart redelivers every
message it held (delayed retries included), and a message put back because its retry could
not be published is redelivered every few seconds while RabbitMQ blocks publishers: the
limit is set so high that no restart storm or outage reaches it, only a real crash loop.
Dead-lettering is at-least-once, so a message is never dropped on its way to the dead letters.
"""

from dramatiq.common import dq_name, xq_name

QUEUE_TYPES = ("classic", "quorum")
# Redeliveries of one message (quorum only): a put-back every ~5 s for 14 hours of alarm.
DELIVERY_LIMIT = 10_000

Declaration = tuple[str, dict]  # a queue's name and its arguments


def queue_arguments(queue_name: str, queue_type: str) -> dict:
    """The arguments of an actor queue and of its delay queue."""
    arguments: dict = {
        "x-dead-letter-exchange": "",
        "x-dead-letter-routing-key": xq_name(queue_name),
    }
    if queue_type == "quorum":
        arguments.update(
            {
                "x-queue-type": "quorum",
                "x-delivery-limit": DELIVERY_LIMIT,
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",  # at-least-once dead-lettering requires it
            }
        )
    return arguments


def dead_letter_arguments(queue_type: str) -> dict:
    """The arguments of a dead-letter queue: no TTL, so nothing in it ever expires."""
    return {"x-queue-type": "quorum"} if queue_type == "quorum" else {}


def queue_declarations(queue_name: str, queue_type: str) -> list[Declaration]:
    """The three queues of an actor queue, each with its arguments, in declaration order."""
    arguments = queue_arguments(queue_name, queue_type)
    return [
        (queue_name, arguments),
        (dq_name(queue_name), arguments),
        (xq_name(queue_name), dead_letter_arguments(queue_type)),
    ]


def check_queue_type(queue_type: str) -> str:
    """queue_type itself if it is one we know; ValueError otherwise."""
    if queue_type not in QUEUE_TYPES:
        raise ValueError(f"RABBITMQ_QUEUE_TYPE must be one of {', '.join(QUEUE_TYPES)}")
    return queue_type
