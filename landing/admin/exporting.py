"""Starting an export: its progress recorded as queued, then its message published.

The operator API and the campaign page both start exports this way; the export_registrations
actor writes the file and moves the progress on.
"""

import uuid
from typing import Any

import dramatiq
from redis import Redis

from landing.shared.exports import Filters, progress_key, set_progress
from landing.shared.publisher import Publisher, PublishFailed
from landing.shared.signup import EXPORT_REGISTRATIONS, EXPORTS


def queue_export(client: Redis, publisher: Publisher, filters: Filters) -> str | None:
    """The new job's id, or None when RabbitMQ did not take its message (nothing is left)."""
    job_id = str(uuid.uuid4())
    set_progress(client, job_id, status="queued", rows=0)
    message: dramatiq.Message[Any] = dramatiq.Message(
        queue_name=EXPORTS,
        actor_name=EXPORT_REGISTRATIONS,
        args=(job_id, filters.as_message()),
        kwargs={},
        options={},
    )
    try:
        publisher.publish(message)
    except PublishFailed:
        client.delete(progress_key(job_id))
        return None
    return job_id
