"""Registrations as operators filter and export them: the filters, the CSV, the job's progress.

No Flask here: the export_registrations actor, the operator API and `flask --app landing
export` all use it. Reads go to DATABASE_READ_URL when it is set (a replica), else to
DATABASE_URL; both are read through a server-side cursor, so an export of any size holds
one batch of rows in memory at a time. Each text cell goes through landing.shared.cells
first: a visitor's referrer or user agent must not run as a formula in a spreadsheet.
"""

import csv
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import psycopg2

from landing.shared.cells import safe_cell
from landing.shared.db import CONNECT_TIMEOUT
from landing.shared.phones import ascii_digits

COLUMNS = (
    "id",
    "phone",
    "referrer",
    "request_id",
    "ip_address",
    "user_agent",
    "created_at",
    "verified_at",  # when its number was verified by SMS (schema.sql: verifications), or empty
)
SELECT_SQL = (
    f"SELECT {', '.join(COLUMNS)} FROM registrations LEFT JOIN verifications USING (request_id)"
)
BATCH = 2_000  # rows fetched from the server-side cursor at a time
# No export directory is configured: each host keeps its exports in its temporary folder.
PROGRESS_TTL = 7 * 86_400  # seconds a job's progress stays readable
_COUNTRY = re.compile(r"^(?:\+98|0098)")


def read_url(config: Any) -> str:
    """The replica's URL when there is one, else the primary's."""
    return config.database_read_url or config.database_url


def parse_time(raw: str, name: str) -> datetime:
    """ISO 8601 text as an aware datetime (UTC when it names no offset); ValueError if not."""
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{name} must be an ISO 8601 date or time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def phone_prefix(raw: str) -> str:
    """A typed prefix in the stored form: ASCII digits, +98 or 0098 written as 0."""
    prefix = _COUNTRY.sub("0", ascii_digits(raw))
    if not re.fullmatch(r"[0-9]{1,11}", prefix):
        raise ValueError("phone_prefix must be digits (at most 11)")
    return prefix


@dataclass(frozen=True)
class Filters:
    """Which registrations: all of them unless narrowed."""

    referrer: str | None = None
    created_after: datetime | None = None  # inclusive
    created_before: datetime | None = None  # exclusive
    phone_prefix: str | None = None

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> "Filters":
        """Filters from query arguments, a message or CLI options; ValueError if one is bad."""
        for name in ("referrer", "created_after", "created_before", "phone_prefix"):
            if args.get(name) is not None and not isinstance(args[name], str):
                raise ValueError(f"{name} must be text")
        after, before = args.get("created_after"), args.get("created_before")
        prefix = args.get("phone_prefix")
        return cls(
            referrer=args.get("referrer") or None,
            created_after=parse_time(after, "created_after") if after else None,
            created_before=parse_time(before, "created_before") if before else None,
            phone_prefix=phone_prefix(prefix) if prefix else None,
        )

    def as_message(self) -> dict[str, str]:
        """JSON-able form (for a message), read back by from_args."""
        return {
            name: value.isoformat() if isinstance(value, datetime) else value
            for name, value in asdict(self).items()
            if value is not None
        }

    def where(self) -> tuple[list[str], list[Any]]:
        """SQL conditions (to be joined with AND) and their parameters."""
        conditions, params = [], []
        for sql, value in (
            ("referrer = %s", self.referrer),
            ("created_at >= %s", self.created_after),
            ("created_at < %s", self.created_before),
            # Digits only (phone_prefix), so LIKE needs no escaping.
            ("phone LIKE %s", self.phone_prefix and f"{self.phone_prefix}%"),
        ):
            if value is not None:
                conditions.append(sql)
                params.append(value)
        return conditions, params


def selection(filters: Filters, extra: Sequence[str] = (), extra_params: Sequence[Any] = ()):
    """The WHERE clause (with a leading space, or empty) and its parameters."""
    conditions, params = filters.where()
    conditions, params = [*conditions, *extra], [*params, *extra_params]
    return (f" WHERE {' AND '.join(conditions)}" if conditions else ""), params


def export_dir(config) -> Path:
    """EXPORT_DIR, or landing-exports in the system's temporary directory."""
    return Path(config.export_dir or Path(tempfile.gettempdir()) / "landing-exports")


def export_path(directory: Path, job_id: str) -> Path:
    """The finished CSV of job_id in directory."""
    return directory / f"{job_id}.csv"


def connect(url: str):
    """A read connection of its own: an export outlives any pooled connection's request."""
    conn = psycopg2.connect(url, connect_timeout=CONNECT_TIMEOUT)
    conn.set_session(readonly=True)
    return conn


def count(conn, filters: Filters) -> int:
    where, params = selection(filters)
    with conn.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM registrations{where}", params)
        return cursor.fetchone()[0]


def rows(conn, filters: Filters) -> Iterator[tuple]:
    """Every selected row, oldest first, BATCH at a time from a server-side cursor."""
    where, params = selection(filters)
    with conn.cursor(name="landing_export") as cursor:
        cursor.execute(f"{SELECT_SQL}{where} ORDER BY created_at, id", params)
        while batch := cursor.fetchmany(BATCH):
            yield from batch


def write_csv(conn, filters: Filters, out: TextIO, progress: Callable[[int], None]) -> int:
    """Write the header and every selected row to out; progress(rows) after each batch."""
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    written = 0
    for row in rows(conn, filters):
        writer.writerow(_cell(value) for value in row)
        written += 1
        if written % BATCH == 0:
            progress(written)
    progress(written)
    return written


def _cell(value: Any) -> Any:
    """A CSV cell: times in ISO 8601, text as safe_cell leaves it."""
    if isinstance(value, datetime):
        return value.isoformat()
    return safe_cell(value) if isinstance(value, str) else value


def progress_key(job_id: str) -> str:
    return f"landing:export:{job_id}"


def set_progress(client, job_id: str, **fields: Any) -> None:
    """Record (part of) a job's state in Redis: status, rows, total, error."""
    key = progress_key(job_id)
    client.hset(key, mapping={name: str(value) for name, value in fields.items()})
    client.expire(key, PROGRESS_TTL)


def read_progress(client, job_id: str) -> dict[str, Any] | None:
    """The job's state, or None when no such job is known (or it expired)."""
    raw = client.hgetall(progress_key(job_id))
    if not raw:
        return None
    state = {key.decode(): value.decode() for key, value in raw.items()}
    for name in ("rows", "total"):
        if name in state:
            state[name] = int(state[name])
    return state
