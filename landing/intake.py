"""The intake: sign-ups accepted by many requests at once, made durable together.

Before its 202 a valid sign-up needs to be admitted (landing.admission: both limits counted,
its request_id bound, its `queued` status) and RabbitMQ's confirm of a message holding it.
Request by request that is a Redis round trip and a publish with its confirm, each. Here
the requests of a process share them (group commit): whoever's turn it is takes every
sign-up waiting, has the gate admit them all in one Redis call and hands the admitted ones
to the publisher as register_batch messages. The turn ends there: each request then waits
for its own message's confirm while the next batch is admitted and published, so confirms
(RabbitMQ's disk flushes) overlap instead of taking turns. Before it writes, the turn lets
every request gevent has ready run up to the batch (GroupCommit's gather): a request alone
is never held back by a timer, and under load batches grow instead of round trips.

A sign-up whose message is not confirmed in time is withdrawn from the gate (its number's
count, its status and binding given back) before its request is told 503.
"""

import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass

from landing.admission.gate import Admitted, Gate
from landing.shared.group_commit import GroupCommit
from landing.shared.publisher import Publisher, confirmed
from landing.shared.signup import SignUp, registration_batch_message

# Sign-ups per register_batch message: a worker stores a message's sign-ups in one
# statement, and a message stays far below RabbitMQ's and dramatiq's size limits.
MAX_PER_MESSAGE = 100
# Times a batch's writer yields for more requests first (GroupCommit): measured at c=64,
# batches grew from ~3 to ~16 sign-ups and web CPU per sign-up fell by a tenth.
GATHER = 8


@dataclass(frozen=True, slots=True)
class _Pending:
    """An admitted sign-up on its way: its message's confirm, and its admission to undo
    without it."""

    confirm: Future
    admitted: Admitted


class Intake:
    """submit(signup) returns once RabbitMQ has confirmed it, or raises why not: Limited
    (AddressLimited, PhoneLimited), RequestIdTaken, PublishFailed (no confirm in time),
    FlushInterrupted."""

    def __init__(self, gate: Gate, publisher: Publisher) -> None:
        self.gate, self.publisher = gate, publisher
        # Greenlets: killed only where they yield, so no waiter needs to look again unwoken.
        self._batches = GroupCommit(self._write, gather=GATHER, recheck=None)

    def submit(self, signup: SignUp) -> None:
        pending = self._batches.submit(signup)  # Limited, RequestIdTaken, FlushInterrupted
        failed = confirmed(pending.confirm, time.monotonic() + self.publisher.timeout)
        if failed is not None:
            self.gate.withdraw(pending.admitted)
            raise failed

    def _write(self, batch: Sequence[SignUp]) -> list[_Pending | Exception]:
        answers = self.gate.admit(batch)
        taken = [i for i, answer in enumerate(answers) if isinstance(answer, Admitted)]
        confirms = dict(zip(taken, self._send([batch[i] for i in taken]), strict=True))
        # The refusals stay as they are; each admitted one becomes its pending message.
        return [
            _Pending(confirms[i], answer) if isinstance(answer, Admitted) else answer
            for i, answer in enumerate(answers)
        ]

    def _send(self, signups: list[SignUp]) -> list[Future]:
        """Each sign-up's message's confirm, its messages sent (not waited for)."""
        confirms = []
        for i in range(0, len(signups), MAX_PER_MESSAGE):
            chunk = signups[i : i + MAX_PER_MESSAGE]
            confirm = self.publisher.send(registration_batch_message(chunk))
            confirms += [confirm] * len(chunk)
        return confirms
