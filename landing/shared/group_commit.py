"""Group commit: threads that each want something written share one write.

A worker process runs several threads, each handling one message. Storing each row in its
own transaction costs a round trip, a commit and a WAL flush per row. Here a thread queues
its item; if nobody is writing, it writes everything queued so far, its own item and those
of the threads that arrived meanwhile, in one go; otherwise it waits for the write in
progress to end, then returns if another's write took its item, or writes the next batch.
Under load a batch is as large as the number of threads waiting; a thread alone writes
just its own item at once: no timer, no added latency. Every thread still gets its own
outcome (or exception) back, so each message keeps its own ack, result and retries.

When a write ends, every caller it carried is woken at once (a condition, notified to all).
Callers that each took a lock in turn to find out would leave one by one, each handing the
lock to the next: under gevent, one trip through the event loop per caller, so at high
concurrency a request waited tens of milliseconds for callers ahead of it, and writers
in that queue wrote batches of two or three.

Where the callers are greenlets on one thread (the web under gevent), "meanwhile" is only
what ran while the previous batch waited on I/O. There the writer can gather first (a
callable it runs before taking the queue, e.g. until the event loop is idle), so every
request already read off the network joins the batch.
"""

import threading
from collections.abc import Callable, Sequence


class FlushInterrupted(Exception):
    """The thread writing a batch was interrupted (a time limit, a shutdown) before it ended."""

    transient = True  # the item was not written by us; retrying it is safe


class _Item:
    __slots__ = ("done", "outcome", "value")

    def __init__(self, value) -> None:
        self.value = value
        self.done = False
        self.outcome = None


class GroupCommit[T, R]:
    """Calls write(values) with the values of every waiting caller; one write at a time.

    write returns one outcome per value, in order: a result, or an exception instance for
    that value alone. An exception raised by write itself fails the whole batch.
    """

    def __init__(
        self,
        write: Callable[[Sequence[T]], list[R | Exception]],
        *,
        gather: Callable[[], None] | None = None,
    ) -> None:
        """gather: what the writer runs before it takes the queue, to let more callers join."""
        self._write = write
        self._gather = gather
        self._queue: list[_Item] = []
        self._writing = False  # a caller is writing a batch
        self._lock = threading.Lock()
        self._write_ended = threading.Condition(self._lock)

    def submit(self, value: T) -> R:
        """Write value (with whatever else is waiting); its outcome, or raise its exception."""
        (outcome,) = self.submit_many([value])
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def submit_many(self, values: Sequence[T]) -> list[R | Exception]:
        """Write values (with whatever else is waiting); each one's outcome or exception."""
        items = [_Item(value) for value in values]
        writer = False
        try:
            with self._write_ended:
                self._queue.extend(items)
                while self._writing and not _all_done(items):
                    self._write_ended.wait()
                if not _all_done(items):  # nobody writing and ours still queued: we write
                    writer = self._writing = True
            if writer:
                if self._gather is not None:
                    self._gather()
                self._write_queued()
        finally:
            if writer:
                with self._write_ended:
                    self._writing = False
                    self._write_ended.notify_all()
        # An item still not done was taken by a write interrupted before it could say so.
        return [
            item.outcome
            if item.done
            else FlushInterrupted("the batch this item was in did not finish")
            for item in items
        ]

    def _write_queued(self) -> None:
        batch: list[_Item] = []
        try:
            with self._lock:
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


def _all_done(items: list[_Item]) -> bool:
    return all(item.done for item in items)
