"""What a worker does around every message: JSON log lines with the sign-up's id, and
PostgreSQL connections handed back."""

import dramatiq

from landing.shared.db import db, init_database
from landing.shared.json_logs import REQUEST_ID, use_json_logs


def request_id_of(message: dramatiq.Message) -> str:
    """The sign-up's request_id when the message carries one, else the message id.

    A register message's id is its request_id; log_attempt messages carry the sign-up.
    """
    attempt = message.args[0] if message.args else None
    request_id = attempt.get("request_id") if isinstance(attempt, dict) else None
    return request_id if isinstance(request_id, str) else message.message_id


class WorkerLogs(dramatiq.Middleware):
    """JSON logs in `dramatiq actors.worker` processes; each message's lines carry its id.

    The CLI configures logging in each worker process (text, to a pipe its master reads)
    and then emits process_boot, so that is where the format is switched. An in-process
    Worker (tests) never emits it and keeps its host's logging.
    """

    def after_process_boot(self, broker):
        use_json_logs()

    def before_process_message(self, broker, message):
        REQUEST_ID.set(request_id_of(message))

    def after_process_message(self, broker, message, *, result=None, exception=None):
        REQUEST_ID.set(None)

    after_skip_message = after_process_message


class DatabaseConnections(dramatiq.Middleware):
    """Point a worker at PostgreSQL when it boots; give connections back after each message.

    Connections are per thread; one left open by a worker thread would pin a pool slot.
    """

    def __init__(self, url: str, max_connections: int) -> None:
        self.url = url
        self.max_connections = max_connections

    def before_worker_boot(self, broker, worker):
        init_database(self.url, self.max_connections)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if not db.is_closed():
            db.close()

    after_skip_message = after_process_message
