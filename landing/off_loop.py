"""Blocking calls kept off the web process's gevent loop.

Under gunicorn's gevent worker one OS thread serves every request of its process, and
psycopg2 blocks in C: a query there stops them all, sign-ups included, until it returns.
Such a call runs in gevent's pool of real threads instead, where it blocks only itself
(psycopg2 lets go of the GIL while it waits). Without gevent (the Flask test client, the
CLI) every request already has a thread of its own.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import cast

from gevent import monkey

_threads = ThreadPoolExecutor(thread_name_prefix="off-loop")


def patched() -> bool:
    """True in a process gevent has monkey-patched (gunicorn's web)."""
    return monkey.is_module_patched("threading")


def start[T](run: Callable[[], T], blocking: bool = True) -> Callable[[float], T]:
    """Start run beside the caller; a wait(timeout) for its result, TimeoutError past it."""
    if not patched():
        future = _threads.submit(run)
        return lambda timeout: future.result(timeout)
    import gevent

    # A cooperative call (redis, pymongo, pika) stays a greenlet: its client's sockets
    # belong to the loop's thread. Past a wait's timeout, run still goes on to its end.
    task = gevent.get_hub().threadpool.spawn(run) if blocking else gevent.spawn(run)

    def wait(timeout: float) -> T:
        try:
            # gevent's stubs type get() as T | None (AsyncResult.set() may take no value);
            # this task's value is run's result.
            return cast(T, task.get(timeout=timeout))
        except gevent.Timeout:  # a BaseException: it would end the request, not the wait
            raise TimeoutError from None

    return wait


def call[T](run: Callable[[], T]) -> T:
    """run's result (or its exception), run where a blocking call cannot stop the loop."""
    if not patched():
        return run()
    import gevent

    return gevent.get_hub().threadpool.apply(run)
