"""Group commit: threads that each want something written share one write.

A worker process runs several threads, each handling one message. Storing each row in its
own transaction costs a round trip, a commit and a WAL flush per row. Here a thread queues
its item and then takes its turn at the flush lock; whoever holds the lock writes everything
queued so far, its own item and those of the threads that arrived meanwhile, in one go.
Under load a batch is as large as the number of threads waiting; a thread alone writes
just its own item at once: no timer, no added latency. Every thread still gets its own
outcome (or exception) back, so each message keeps its own ack, result and retries.

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


class _Item[T, R]:
    __slots__ = ("done", "outcome", "value")
    outcome: R | Exception  # set once done

    def __init__(self, value: T) -> None:
        self.value = value
        self.done = False


class GroupCommit[T, R]:
    """Calls write(values) with the values of every waiting caller; one write at a time.

    write returns one outcome per value, in order: a result, or an exception instance for
    that value alone. An exception raised by write itself fails the whole batch.
    """

    def __init__(
        self, write: Callable[[Sequence[T]], list[R | Exception]], *, gather: int = 0
    ) -> None:
        """gather: how many times the writer may yield for more callers before it writes."""
        self._write = write
        self._gather = gather
        self._queue: list[_Item[T, R]] = []
        self._queue_lock = threading.Lock()
        self._write_lock = threading.Lock()

    def submit(self, value: T) -> R:
        """Write value (with whatever else is waiting); its outcome, or raise its exception."""
        (outcome,) = self.submit_many([value])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def submit_many(self, values: Sequence[T]) -> list[R | Exception]:
        """Write values (with whatever else is waiting); each one's outcome or exception."""
        items: list[_Item[T, R]] = [_Item(value) for value in values]
        with self._queue_lock:
            self._queue.extend(items)
        with self._write_lock:
            if not all(item.done for item in items):  # ours not all written meanwhile: we write
                self._wait_for_more()
                self._write_queued()
        # An item still not done was taken by a write interrupted before it could say so.
        return [
            item.outcome
            if item.done
            else FlushInterrupted("the batch this item was in did not finish")
            for item in items
        ]

    def _wait_for_more(self) -> None:
        for _ in range(self._gather):
            waiting = len(self._queue)
            time.sleep(0)  # gevent: every greenlet ready to run runs first
            if len(self._queue) == waiting:
                return

    def _write_queued(self) -> None:
        batch: list[_Item[T, R]] = []
        try:
            with self._queue_lock:
                batch, self._queue = self._queue, []
            outcomes = self._write([item.value for item in batch])
            for item, outcome in zip(batch, outcomes, strict=True):
                item.outcome = outcome
                item.done = True
        finally:
            # Interrupted (TimeLimit raises inside this thread) or write raised: nobody in
            # this batch may wait for an outcome that will never come.
            for item in batch:
                if not item.done:
                    item.outcome = FlushInterrupted("the batch this item was in did not finish")
                    item.done = True
