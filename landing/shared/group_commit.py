"""Group commit: threads that each want something written share one write.

A worker process runs several threads, each handling one message. Storing each row in its
own transaction costs a round trip, a commit and a WAL flush per row. Here a caller queues
its items; if no write is under way it writes, else it waits to be woken. Whoever writes
takes everything queued so far, its own items and those of the callers that arrived
meanwhile, writes them in one go, wakes each of their callers, and hands the turn to the
first caller still waiting (who then writes everything queued by then). Under load a batch
is as large as the number of callers waiting; a caller alone writes its own items at once:
no timer, no added latency. Every caller still gets its own outcome (or exception) back,
so each message keeps its own ack, result and retries.

A caller whose items were written by someone else is woken once and returns: it never
takes a turn at a lock behind the others. (With one lock that every caller took in turn,
each caller already written still queued for it: at hundreds of callers that convoy of
hand-offs, not the writes, set the pace, and the batches shrank as callers grew.)

Where the callers are greenlets on one thread (the web under gevent), "meanwhile" is short:
only what ran while the previous batch waited on I/O. There the writer can gather first:
yield to the loop, and again while that brought more, so every request already read off
the network joins the batch before it is written. A caller alone yields once (microseconds).
"""

import threading
import time
from collections.abc import Callable, Sequence

from landing.shared.failures import Transient


class FlushInterrupted(Transient):
    """The thread writing a batch was interrupted (a time limit, a shutdown) before it ended:
    the item was not written by us, so retrying it is safe."""


# How often a waiter looks at its own state unwoken (see GroupCommit._wait).
RECHECK_S = 1.0


class _Item[T, R]:
    __slots__ = ("done", "outcome", "value")
    outcome: R | Exception  # set once done

    def __init__(self, value: T) -> None:
        self.value = value
        self.done = False


class _Caller[T, R]:
    """One caller's items, and the event it waits on: its items written, or its turn."""

    __slots__ = ("items", "turn", "woken")

    def __init__(self, items: list[_Item[T, R]]) -> None:
        self.items = items
        self.turn = False  # handed the turn to write: its items are not written yet
        self.woken = threading.Event()

    def ready(self) -> bool:
        """Whether it holds the turn or its items are all written, woken or not."""
        return self.turn or all(item.done for item in self.items)


class GroupCommit[T, R]:
    """Calls write(values) with the values of every waiting caller; one write at a time.

    write returns one outcome per value, in order: a result, or an exception instance for
    that value alone. An exception raised by write itself fails the whole batch.
    """

    def __init__(
        self,
        write: Callable[[Sequence[T]], list[R | Exception]],
        *,
        gather: int = 0,
        recheck: float | None = RECHECK_S,
    ) -> None:
        """gather: how many times the writer may yield for more callers before it writes.
        recheck: seconds between a waiter's looks at its own state (_wait); None for
        greenlets, which are interrupted while they wait and never between two lines."""
        self._write = write
        self._gather = gather
        self._recheck = recheck
        self._waiting: list[_Caller[T, R]] = []
        self._writing = False  # a caller holds the turn
        self._lock = threading.Lock()  # guards _waiting and _writing; never held over I/O

    def submit(self, value: T) -> R:
        """Write value (with whatever else is waiting); its outcome, or raise its exception."""
        (outcome,) = self.submit_many([value])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def submit_many(self, values: Sequence[T]) -> list[R | Exception]:
        """Write values (with whatever else is waiting); each one's outcome or exception."""
        caller: _Caller[T, R] = _Caller([_Item(value) for value in values])
        with self._lock:
            self._waiting.append(caller)
            caller.turn = not self._writing
            self._writing = True
        try:
            self._wait(caller)
            if caller.turn:
                self._take_turn(caller)
        finally:
            # However this ends (written, write raised, interrupted by a TimeLimit at any
            # line): out of the queue, and a turn it holds passed on.
            self._leave(caller)
        # An item still not done was taken by a write interrupted before it could say so.
        return [
            item.outcome
            if item.done
            else FlushInterrupted("the batch this item was in did not finish")
            for item in caller.items
        ]

    def _wait(self, caller: _Caller[T, R]) -> None:
        """Until caller's items are written or it holds the turn. It looks again every
        RECHECK_S unwoken: a writer interrupted between handing the turn and the wake-up
        still loses nobody, and a thread's TimeLimit reaches it (not while it blocks)."""
        if caller.turn:
            return
        if self._recheck is None:
            caller.woken.wait()
            return
        while not caller.woken.wait(self._recheck):
            if caller.ready():  # handed the turn, or written, by a writer who never woke it
                return

    def _take_turn(self, caller: _Caller[T, R]) -> None:
        """Write everything queued (caller's items among it), pass the turn, wake its callers."""
        taken: list[_Caller[T, R]] = []
        try:
            self._wait_for_more()
            with self._lock:
                taken, self._waiting = self._waiting, []
            batch = [item for one in taken for item in one.items]
            outcomes = self._write([item.value for item in batch])
            for item, outcome in zip(batch, outcomes, strict=True):
                item.outcome = outcome
                item.done = True
        finally:
            # Interrupted (TimeLimit raises inside this thread) or write raised: nobody in
            # this batch may wait for an outcome that will never come.
            for one in taken:
                for item in one.items:
                    if not item.done:
                        item.outcome = FlushInterrupted("the batch this item was in did not finish")
                        item.done = True
            self._leave(caller)  # the turn first: the next batch need not wait for wake-ups
            for one in taken:
                if one is not caller:
                    one.woken.set()

    def _leave(self, caller: _Caller[T, R]) -> None:
        """caller out of the queue; if it holds the turn, the turn to the first caller
        waiting (woken), or to nobody. Idempotent."""
        with self._lock:
            if caller in self._waiting:  # never taken: its items are not written by anyone
                self._waiting.remove(caller)
            if not caller.turn:
                return
            caller.turn = False
            following = self._waiting[0] if self._waiting else None
            if following is None:
                self._writing = False
            else:
                following.turn = True
        if following is not None:
            following.woken.set()

    def _wait_for_more(self) -> None:
        for _ in range(self._gather):
            waiting = len(self._waiting)
            time.sleep(0)  # gevent: every greenlet ready to run runs first
            if len(self._waiting) == waiting:
                return
