"""How the operator API runs its PostgreSQL queries, so that they never slow sign-ups.

psycopg2 blocks in C: on the web process's gevent loop, a count over millions of rows held
every request of that process, sign-ups included, for as long as it ran. So each query
runs in gevent's pool of real threads (landing.off_loop), at most POOL_SIZE at a time so
operators never take every thread of that pool (/ready's probe needs one), on a pool of
connections whose statements PostgreSQL cancels after ADMIN_STATEMENT_TIMEOUT_MS.
"""

import threading
from collections.abc import Callable

from peewee import OperationalError
from psycopg2.errors import QueryCanceled

from landing.admin.reads import POOL_SIZE, read_database
from landing.off_loop import call


class StatementTimeout(Exception):
    """PostgreSQL cancelled a query that ran past the operator API's statement timeout."""

    def __init__(self, timeout_ms: int) -> None:
        super().__init__(f"a statement ran past {timeout_ms} ms")
        self.timeout_ms = timeout_ms


class Queries:
    """The operator API's PostgreSQL: its own pool, time-limited, used off the event loop."""

    def __init__(self, url: str, timeout_ms: int) -> None:
        self.database = read_database(url, timeout_ms)
        self.timeout_ms = timeout_ms
        # Created with the app, after gevent's patching: waiting here yields to the loop.
        self._slots = threading.BoundedSemaphore(POOL_SIZE)

    def run[T](self, work: Callable[..., T], *args) -> T:
        """work(database, *args), off the event loop; StatementTimeout if PostgreSQL cut it off."""
        with self._slots:
            try:
                return call(lambda: work(self.database, *args))
            except OperationalError as error:  # peewee's, raised from psycopg2's
                if isinstance(error.__context__, QueryCanceled):
                    raise StatementTimeout(self.timeout_ms) from error
                raise
