"""Keep message payloads (phone numbers) out of the workers' logs."""

import logging

import dramatiq
from dramatiq.broker import MessageProxy

# Workers handle MessageProxy objects; brokers and middleware plain Messages.
MESSAGES = (dramatiq.Message, MessageProxy)


class MessageIdsOnly(logging.Filter):
    """Dramatiq logs a failed or skipped message with its arguments; log its id instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                f"{arg.actor_name}[{arg.message_id}]" if isinstance(arg, MESSAGES) else arg
                for arg in record.args
            )
        return True


def hide_payloads() -> None:
    """Install the filter on the logger that prints messages (dramatiq's worker threads)."""
    logging.getLogger("dramatiq.worker.WorkerThread").addFilter(MessageIdsOnly())
