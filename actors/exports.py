"""The export_registrations actor: an operator's CSV export, written by a worker.

The web records the job as queued and sends the message; the worker counts the rows,
writes them to a temporary file beside the final one (renamed when complete, so a reader
never sees half a file) and keeps the job's progress in Redis as it goes.
"""

import logging
import os
import time
from contextlib import suppress
from pathlib import Path
from typing import Any

import dramatiq
import redis

from actors.retries import RetryPolicy
from landing.shared.exports import (
    PROGRESS_TTL,
    Filters,
    connect,
    count,
    export_dir,
    export_path,
    read_url,
    set_progress,
    write_csv,
)
from landing.shared.settings import Settings
from landing.shared.signup import EXPORT_REGISTRATIONS, EXPORTS

log = logging.getLogger(__name__)
# An export of millions of rows takes minutes, far past ACTOR_TIME_LIMIT_MS.
TIME_LIMIT_MS = 3_600_000
MAX_RETRIES = 2  # an outage mid-export starts it over, a few times (bad data: never)


def export(
    url: str, directory: Path, client: redis.Redis, job_id: str, filters: dict[str, Any]
) -> int:
    """Write the job's CSV; the number of rows written. Its state is in Redis throughout."""
    try:
        selected = Filters.from_args(filters)
    except ValueError as error:
        set_progress(client, job_id, status="failed", error=str(error))
        return 0  # the web validated them: nothing a retry would change
    directory.mkdir(parents=True, exist_ok=True)
    remove_expired(directory)
    final = export_path(directory, job_id)
    partial = final.with_suffix(".part")
    conn = connect(url)
    try:
        set_progress(client, job_id, status="running", rows=0, total=count(conn, selected))
        with partial.open("w", newline="", encoding="utf-8") as out:
            written = write_csv(conn, selected, out, lambda n: set_progress(client, job_id, rows=n))
        os.replace(partial, final)
    except Exception as error:
        partial.unlink(missing_ok=True)
        set_progress(client, job_id, status="failed", error=type(error).__name__)
        raise
    finally:
        conn.close()
    set_progress(client, job_id, status="done", rows=written)
    log.info("export %s: %d rows", job_id, written)
    return written


def remove_expired(directory: Path) -> None:
    """Delete exports older than their progress: nobody can ask for them any more, and
    each is a copy of phone numbers."""
    too_old = time.time() - PROGRESS_TTL
    for path in [*directory.glob("*.csv"), *directory.glob("*.part")]:  # .part: a worker killed
        with suppress(FileNotFoundError):  # another worker removed it first
            if path.stat().st_mtime < too_old:
                path.unlink()


def declare(broker: dramatiq.Broker, config: Settings) -> dramatiq.Actor:
    """The export_registrations actor on broker, reading from the replica when there is one."""
    client = redis.Redis.from_url(config.redis_url, socket_timeout=5, socket_connect_timeout=5)
    url, directory = read_url(config), export_dir(config)

    def run(job_id: str, filters: dict[str, Any]) -> int:
        return export(url, directory, client, job_id, filters)

    return dramatiq.actor(
        actor_name=EXPORT_REGISTRATIONS,
        queue_name=EXPORTS,
        time_limit=TIME_LIMIT_MS,
        retry_when=RetryPolicy(MAX_RETRIES),
        broker=broker,
    )(run)
