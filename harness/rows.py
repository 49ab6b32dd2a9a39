"""What PostgreSQL holds: counting the registrations, reading them, emptying, preloading."""

import psycopg2

from harness.outages import outlasting_outages


class RowCounter:
    """`SELECT count(*) FROM registrations` (of request_ids only, if given) on one connection,
    polled several times a second (reconnecting after a PostgreSQL restart)."""

    def __init__(self, url: str, request_ids: list[str] | None = None) -> None:
        self.url, self.request_ids = url, request_ids
        self.connection = None

    def __call__(self) -> int:
        """The count, waiting out an outage of PostgreSQL (harness.outages)."""
        return outlasting_outages(self.count)

    def count(self) -> int:
        """The count now; psycopg2.Error (the connection dropped) while PostgreSQL is away."""
        if self.connection is None or self.connection.closed:
            self.connection = psycopg2.connect(self.url, connect_timeout=5)
            self.connection.autocommit = True
        sql, args = "SELECT count(*) FROM registrations", ()
        if self.request_ids is not None:
            sql, args = sql + " WHERE request_id = ANY(%s::uuid[])", (self.request_ids,)
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(sql, args)
                return cursor.fetchone()[0]
        except psycopg2.Error:
            self.close()
            raise

    def close(self) -> None:
        """Close the connection (the next count opens a new one)."""
        if self.connection is not None:
            self.connection.close()
            self.connection = None


def fetch_rows(database_url: str) -> list[tuple[str, str]]:
    """(request_id, phone) of every stored registration."""
    connection = psycopg2.connect(database_url, connect_timeout=10)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT request_id::text, phone FROM registrations")
            rows = cursor.fetchall()
    finally:
        connection.close()
    return rows


def truncate(database_url: str) -> None:
    """Every registration gone, ids restarted."""
    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute("TRUNCATE registrations RESTART IDENTITY")
    connection.close()


# Preloaded sign-ups: '0990' and 7 digits is wrk's numbering ('09' and 9 digits) from
# 990,000,000 on, which no run reaches, so a filler never collides with what wrk sends.
PRELOAD = """
INSERT INTO registrations (phone, referrer, request_id, ip_address, user_agent, created_at)
SELECT phone, 'bench-preload', md5(phone)::uuid, '127.0.0.1', 'bench preload', now()
FROM (
    SELECT '09' || lpad(n::text, 9, '0') FROM generate_series(%(start)s, %(stop)s, %(step)s) n
    UNION ALL
    SELECT '0990' || lpad(n::text, 7, '0') FROM generate_series(1, %(fillers)s) n
) AS preloaded (phone)
"""


def preload(url: str, rows: int, duplicates: range = range(0)) -> None:
    """rows sign-ups already stored, in one statement: wrk's numbers in duplicates (the next
    run sends them again), the rest fillers. ANALYZEd, as a table that grew would be."""
    fillers = rows - len(duplicates)
    if fillers < 0:
        raise ValueError("more duplicates than rows")
    span = dict(start=duplicates.start, stop=duplicates.stop - 1, step=duplicates.step or 1)
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(PRELOAD, {**span, "fillers": fillers})
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registrations")
    connection.close()
