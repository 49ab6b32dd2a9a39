"""The operator API's test plumbing: a token and its digest, registrations seeded in bulk."""

import hashlib
from datetime import UTC, datetime, timedelta

from psycopg2.extras import execute_values

TOKEN = "operator-token-for-tests"
DIGEST = hashlib.sha256(TOKEN.encode()).hexdigest()
OTHER_DIGEST = hashlib.sha256(b"someone else").hexdigest()
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DAY1 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
DAY2 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def phone_number(n: int) -> str:
    return f"0912{n:07d}"


def seed(owner, count: int, start=DAY1, referrer="campaign", step=timedelta(seconds=1), first=0):
    """count registrations as the schema's owner: phones 0912 + n, times start + n * step."""
    rows = [
        (phone_number(first + n), referrer, start + n * step, "203.0.113.5", "pytest")
        for n in range(count)
    ]
    with owner.cursor() as cursor:
        execute_values(
            cursor,
            "INSERT INTO registrations (phone, referrer, created_at, ip_address, user_agent,"
            " request_id) VALUES %s",
            rows,
            template="(%s, %s, %s, %s, %s, gen_random_uuid())",
        )
