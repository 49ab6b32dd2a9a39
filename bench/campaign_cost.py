"""What an open campaign page costs PostgreSQL: its queries per refresh, timed at a size.

    python -m bench.campaign_cost --rows 1000000 [--database camp_bench] [--days 30]

Fills a scratch database of its own (created if missing, schema.sql applied) with `--rows`
registrations in all, spread over `--days` and 20 referrers by generate_series, rebuilds
signup_counts from them as the workers would have (every one of its four shards in use, the
worst case), then times the page's queries (landing.ops.campaign.figures, the same SQL) and
prints EXPLAIN ANALYZE of each. For
contrast it times what the same plots would cost read from registrations itself
(landing.admin.stats' per-day query). Run it again with more rows: it only adds the gap.
Never point it at a database that matters: it writes rows of made-up numbers.
"""

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

import psycopg2

from landing.admin.reads import read_database
from landing.admin.stats import PER_DAY_SQL
from landing.ops.campaign.figures import (
    HOURS,
    MINUTES,
    REFERRERS,
    REFERRERS_SQL,
    SERIES_SQL,
    referrers,
    series,
)
from landing.shared.db import apply_schema, create_database_if_missing

FILL_SQL = """
    INSERT INTO registrations (phone, referrer, request_id, ip_address, user_agent, created_at)
    SELECT '09' || lpad(i::text, 9, '0'),
           'utm_source=source' || (i %% 20) || '&utm_campaign=bench',
           md5(i::text)::uuid, '203.0.113.5', 'bench',
           now() - make_interval(secs => (i::bigint * 7919 %% (%(days)s * 86400)))
    FROM generate_series(%(first)s, %(last)s) AS i
"""
RECOUNT_SQL = """
    -- Referrers take turns by id (i % 20): the shard must vary within a referrer.
    TRUNCATE signup_counts;
    INSERT INTO signup_counts (unit, starts_at, referrer, shard, n)
    SELECT u.unit, date_trunc(u.unit, r.created_at, 'UTC'), coalesce(r.referrer, ''),
           (r.id / 20) % 4, count(*)
    FROM registrations r CROSS JOIN (VALUES ('minute'), ('hour'), ('day')) AS u (unit)
    GROUP BY 1, 2, 3, 4;
    ANALYZE registrations;
    ANALYZE signup_counts;
"""


def fill(url: str, rows: int, days: int) -> None:
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM registrations")
            have = cursor.fetchone()[0]
            if have < rows:
                print(f"adding {rows - have} rows to {have}...", flush=True)
                cursor.execute(FILL_SQL, {"first": have + 1, "last": rows, "days": days})
        with conn, conn.cursor() as cursor:
            cursor.execute(RECOUNT_SQL)
            cursor.execute("SELECT count(*), sum(n) FILTER (WHERE unit = 'day') FROM signup_counts")
            print("signup_counts rows, sign-ups counted:", cursor.fetchone())
    finally:
        conn.close()


def timed(work, repeat: int) -> tuple[float, float]:
    """Median and worst wall time of work(), in ms."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), max(times)


def explain(url: str, now: datetime) -> None:
    conn = psycopg2.connect(url)
    values = {
        "minutes_from": now - timedelta(minutes=MINUTES - 1),
        "hours_from": now - timedelta(hours=HOURS - 1),
    }
    try:
        with conn.cursor() as cursor:
            for name, sql, params in (
                ("series (all referrers)", SERIES_SQL.format(only=""), values),
                ("referrers", REFERRERS_SQL, [REFERRERS]),
            ):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
                plan = [row[0] for row in cursor.fetchall()]
                print(f"\n-- {name}\n" + "\n".join(plan))
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--database", default="camp_bench")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    create_database_if_missing(url)
    apply_schema(url)
    fill(url, args.rows, args.days)
    database = read_database(url)  # pooled, as the page's own reads are
    now = datetime.now(UTC)
    refresh = timed(lambda: (series(database, None, now), referrers(database)), args.repeat)
    filtered = timed(lambda: series(database, "utm_source=source3", now), args.repeat)
    print(
        f"\nrows={args.rows}: one refresh = 2 queries, median {refresh[0]:.1f} ms,"
        f" worst {refresh[1]:.1f} ms; filtered by a referrer {filtered[0]:.1f} ms"
    )
    bare = timed(lambda: database.execute_sql(PER_DAY_SQL.format(where="")).fetchall(), 3)
    print(f"for contrast, per day from registrations itself: median {bare[0]:.0f} ms")
    explain(url, now)


if __name__ == "__main__":
    main()
