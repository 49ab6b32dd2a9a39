"""One registration found by its number or its request_id, for the campaign page's Find.

Both are unique keys: a lookup is one index probe, whatever the size of the table.
"""

from typing import Any

from peewee import Database

from landing.admin.reads import as_json
from landing.shared.exports import SELECT_SQL


def by_phone(database: Database, phone: str) -> dict[str, Any] | None:
    """The registration of the normalised phone, or None."""
    return _one(database, f"{SELECT_SQL} WHERE phone = %s", phone)


def by_request_id(database: Database, request_id: str) -> dict[str, Any] | None:
    """The registration stored under request_id (a UUID's text), or None."""
    return _one(database, f"{SELECT_SQL} WHERE request_id = %s::uuid", request_id)


def _one(database: Database, sql: str, value: str) -> dict[str, Any] | None:
    with database.connection_context():
        row = database.execute_sql(sql, [value]).fetchone()
    return as_json(row) if row else None
