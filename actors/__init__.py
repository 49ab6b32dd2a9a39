"""landing's Dramatiq actors; `dramatiq actors` starts workers for all of them.

Each actor module names actors.broker explicitly, so import order cannot bind an actor
to dramatiq's default broker (which would bring Prometheus and its port).
"""

from actors.attempts import log_attempt
from actors.broker import broker
from actors.logs import hide_payloads
from actors.registrations import register

hide_payloads()

__all__ = ["broker", "log_attempt", "register"]
