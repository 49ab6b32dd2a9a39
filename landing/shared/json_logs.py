"""Log lines as JSON objects, each with its request_id, never with a payload or a phone number.

Web and workers share the format: `time`, `level`, `logger`, `message`, `request_id` and, for
an exception, `exc_info` (the traceback as text: frames and source lines, no local values).
The web sets REQUEST_ID for each request; in a worker, actors.middleware.WorkerLogs sets it
to the sign-up's request_id for each message. Phone numbers are masked in the message and
the traceback whatever logged them: the last line of defence behind "log ids, never payloads".
"""

import json
import logging
import time
from contextvars import ContextVar
from typing import Any

import dramatiq
from dramatiq.broker import MessageProxy

from landing.shared.privacy import mask_phones_in

# Workers handle MessageProxy objects; brokers and middleware plain Messages.
MESSAGES = (dramatiq.Message, MessageProxy)

#: The id of the request (web) or sign-up (worker) the current thread is working on.
REQUEST_ID: ContextVar[str | None] = ContextVar("request_id", default=None)


def _ids_only(args: Any) -> Any:
    """Log arguments with every message replaced by actor[message_id] (its repr dumps args)."""
    if not isinstance(args, tuple):
        return args
    return tuple(
        f"{arg.actor_name}[{arg.message_id}]" if isinstance(arg, MESSAGES) else arg for arg in args
    )


class MessageIdsOnly(logging.Filter):
    """Dramatiq logs a failed or skipped message with its arguments; log its id instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.args = _ids_only(record.args)
        return True


def hide_payloads() -> None:
    """Install the filter on the logger that prints messages (dramatiq's worker threads)."""
    logging.getLogger("dramatiq.worker.WorkerThread").addFilter(MessageIdsOnly())


class JsonFormatter(logging.Formatter):
    """One JSON object per line, shaped like gunicorn.conf.py's access log lines."""

    def format(self, record: logging.LogRecord) -> str:
        record.args = _ids_only(record.args)  # any logger, not only the filtered one
        entry = {
            "time": _timestamp(record),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_phones_in(record.getMessage()),
            "request_id": REQUEST_ID.get(),
        }
        if record.exc_info:
            entry["exc_info"] = mask_phones_in(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack_info"] = mask_phones_in(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def _timestamp(record: logging.LogRecord) -> str:
    """Local time like the access log's (2026-11-05T10:11:12+0000), with milliseconds."""
    moment = time.localtime(record.created)
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", moment)
    return f"{seconds}.{int(record.msecs):03d}{time.strftime('%z', moment)}"


def use_json_logs() -> None:
    """Format every line of the root logger's handlers as JSON (adding stderr if it has none)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter())
