"""A Dramatiq worker inside the test process, on a broker the tests built."""

from collections.abc import Iterator
from contextlib import contextmanager

from dramatiq import Broker, Worker


@contextmanager
def in_process_worker(broker: Broker, **options) -> Iterator[Worker]:
    """A started Worker (2 threads unless options say otherwise), stopped on leaving.

    Each Worker adds a middleware of its own to the broker and never takes it out; its
    threads' connections stay in the broker's set after the threads end. Both are undone
    here, or a session of such tests piles up middleware and runs out of file descriptors.
    """
    before = list(broker.middleware)
    opened = set(getattr(broker, "connections", ()))
    running = Worker(broker, **{"worker_threads": 2, "worker_timeout": 100, **options})
    running.start()
    try:
        yield running
    finally:
        running.stop()
        broker.middleware[:] = before
        # This thread's own connection (opened meanwhile by a test's enqueue) stays in use.
        opened.add(getattr(getattr(broker, "state", None), "connection", None))
        for connection in set(getattr(broker, "connections", ())) - opened:
            broker.connections.discard(connection)
            if connection.is_open:
                connection.close()
