"""What a drill hands its fault: the Env it may touch, and the Fault's description."""

import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from harness.mongo import MongoLog
from harness.services import PrivatePostgres, PrivateRedis
from harness.supervisor import AppStack


@dataclass
class Env:
    """What a fault may touch: the private services, the app, this drill's vhost."""

    broker: Any  # a RabbitNode, or the Cluster for the cluster drill
    postgres: PrivatePostgres
    redis: PrivateRedis
    mongo: MongoLog
    stack: AppStack
    vhost: str
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # drill-specific checks that failed
    broken_at: float | None = None  # monotonic: the first breaking command began

    def breaking(self) -> None:
        """Called by a fault right before the command that breaks things (in an overlap,
        the first fault's counts: that is when the drill began to break)."""
        if self.broken_at is None:
            self.broken_at = time.monotonic()


@dataclass(frozen=True)
class Fault:
    """One drill's fault: how to break and mend (action), how long, and its extra checks."""

    name: str
    hold_s: float  # seconds between breaking and mending
    action: Callable[[Env], AbstractContextManager[None]]
    rate: float | None = None  # new sign-ups per second, when the default is too much
    clients: int | None = None  # client threads, when the default cannot reach the rate
    bounded: bool = False  # answers within PUBLISH_TIMEOUT + 0.5 s while it holds
    log: bool = False  # every 202 must reach the attempt log afterwards
    cluster: bool = False  # runs against three clustered nodes and quorum queues
    slack_s: float = 0.0  # about how long the undo takes (a node boots in ~5-10 s)
    lead_s: float = 0.0  # an overlap: seconds the first fault holds alone before hold_s
    drain_s: float | None = None  # the drain bound, when DRILL_DRAIN_TIMEOUT is too short
    dead_letters: bool = False  # registrations.XQ must be empty at the end
