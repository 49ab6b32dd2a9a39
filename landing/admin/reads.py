"""The operator API's reads: a connection pool of its own, on the replica when there is one.

Pages are keyset pages over (created_at, id), the order registrations_created_at_idx
serves: a page costs the same at the millionth row as at the first, and a row added
meanwhile never shifts one page's rows onto the next. The cursor is opaque to clients.
"""

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from peewee import Database
from playhouse.db_url import connect

from landing.shared.db import CONNECT_TIMEOUT
from landing.shared.exports import COLUMNS, SELECT_SQL, Filters, selection

MAX_LIMIT = 500
DEFAULT_LIMIT = 100
POOL_SIZE = 4  # operators are few; the public API keeps the primary's pool to itself


def read_database(url: str, statement_timeout_ms: int | None = None) -> Database:
    """A pooled peewee database for url, its statements cut off past the timeout if given."""
    pooled = url.replace("postgresql://", "postgresql+pool://", 1)
    # Set when each connection opens: a pooled connection never runs without it.
    limit = {"options": f"-c statement_timeout={statement_timeout_ms}"}
    return connect(
        pooled,
        max_connections=POOL_SIZE,
        stale_timeout=300,
        timeout=5,
        connect_timeout=CONNECT_TIMEOUT,
        **(limit if statement_timeout_ms else {}),
    )


def encode_cursor(created_at: datetime, row_id: int) -> str:
    raw = json.dumps([created_at.isoformat(), row_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """The (created_at, id) a cursor stands for; ValueError if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        return datetime.fromisoformat(created_at), int(row_id)
    except (ValueError, TypeError, binascii.Error):
        raise ValueError("cursor is not valid") from None


def parse_limit(raw: str | None) -> int:
    try:
        limit = DEFAULT_LIMIT if raw is None else int(raw)
    except ValueError:
        raise ValueError(f"limit must be a number from 1 to {MAX_LIMIT}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise ValueError(f"limit must be a number from 1 to {MAX_LIMIT}")
    return limit


def page(
    database: Database, filters: Filters, limit: int, after: tuple | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Up to limit rows after the cursor's position, and the next page's cursor (or None)."""
    extra, extra_params = (["(created_at, id) > (%s, %s)"], list(after)) if after else ([], [])
    where, params = selection(filters, extra, extra_params)
    sql = f"{SELECT_SQL}{where} ORDER BY created_at, id LIMIT %s"
    with database.connection_context():
        found = database.execute_sql(sql, [*params, limit + 1]).fetchall()
    rows = [as_json(row) for row in found[:limit]]
    last = found[limit - 1] if len(found) > limit else None
    created_at = COLUMNS.index("created_at")
    return rows, (encode_cursor(last[created_at], last[0]) if last else None)


def as_json(row: tuple) -> dict[str, Any]:
    values = dict(zip(COLUMNS, row, strict=True))
    values["request_id"] = str(values["request_id"])
    values["created_at"] = values["created_at"].isoformat()
    if values["verified_at"] is not None:  # verified by SMS (VERIFICATION=sms)
        values["verified_at"] = values["verified_at"].isoformat()
    return values
