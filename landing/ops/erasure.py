"""Erasing a phone number: from PostgreSQL, the attempt history and the status store.

A visitor may ask to be forgotten. The number is found in every form it can have been
stored in: normalised in PostgreSQL and in accepted attempts, and as typed (separators,
+98 or 0098, Persian or Arabic-Indic digits) in turned-away attempts. Messages still queued
or dead-lettered in RabbitMQ are not touched: the task dashboard deletes dead letters.
"""

import re
from dataclasses import dataclass

import psycopg2
from flask import Flask

from landing.off_loop import call
from landing.shared.db import CONNECT_TIMEOUT
from landing.shared.results import binding_key
from landing.shared.signup import status_key

_ALTERNATIVES = {str(d): f"[{d}{chr(0x06F0 + d)}{chr(0x0660 + d)}]" for d in range(10)}
_SEPARATORS = r"[ \t\-()]*"
DELETE_SQL = "DELETE FROM registrations WHERE phone = %s RETURNING request_id"


@dataclass(frozen=True)
class Erased:
    """How many records of each store held the number (and are gone)."""

    registrations: int
    attempts: int
    statuses: int
    limit_counters: int


def typed_forms(phone: str) -> re.Pattern:
    """Every way the normalised 0XXXXXXXXXX phone can have been typed, as one pattern."""
    digits = _SEPARATORS.join(_ALTERNATIVES[d] for d in phone[1:])
    prefix = rf"(?:\+{_SEPARATORS}98|0098|98|{_ALTERNATIVES['0']})"
    return re.compile(rf"^{_SEPARATORS}{prefix}?{_SEPARATORS}{digits}{_SEPARATORS}$")


def erase_phone(app: Flask, owner_url: str, phone: str) -> Erased:
    """Remove the normalised phone from every store; the counts of what was removed.

    PostgreSQL's row goes as the schema's owner: the app's own role may not delete. That
    part runs off the web's event loop (psycopg2 would block every request of the process).
    """
    request_ids = call(lambda: _delete_rows(owner_url, phone))
    history = app.extensions["mongo"].get_default_database("logs")["landing_attempts"]
    query = {"$or": [{"phone": {"$regex": typed_forms(phone).pattern}}]}
    if request_ids:
        query["$or"].append({"request_id": {"$in": request_ids}})
    attempts = history.delete_many(query).deleted_count
    return Erased(
        registrations=len(request_ids),
        attempts=attempts,
        statuses=_erase_statuses(app, request_ids),
        limit_counters=_erase_counters(app, phone),
    )


def _delete_rows(owner_url: str, phone: str) -> list[str]:
    """Delete the phone's row; the request_ids it held."""
    conn = psycopg2.connect(owner_url, connect_timeout=CONNECT_TIMEOUT)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(
                "DELETE FROM registrations WHERE phone = %s RETURNING request_id", (phone,)
            )
            return [str(row[0]) for row in cursor.fetchall()]
    finally:
        conn.close()


def _erase_statuses(app: Flask, request_ids: list[str]) -> int:
    backend = app.extensions["results"]
    keys = [backend.build_message_key(status_key(request_id)) for request_id in request_ids]
    bindings = [binding_key(request_id) for request_id in request_ids]
    if not keys:
        return 0
    deleted = backend.client.delete(*keys)
    backend.client.delete(*bindings)  # a fingerprint of the number, bound to its request_id
    return deleted


def _erase_counters(app: Flask, phone: str) -> int:
    """The per-phone limit's counters: keyed by a keyed hash, which still identifies the number."""
    client, key = app.extensions["results"].client, app.extensions["phone_keys"](phone)
    found = list(client.scan_iter(match=f"*{key}*", count=1000))
    return client.delete(*found) if found else 0
