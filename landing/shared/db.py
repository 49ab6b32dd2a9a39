"""PostgreSQL through peewee: the database handle, the model, the schema loader.

schema.sql is the source of truth; the model mirrors it and never creates tables.
"""

from pathlib import Path

import psycopg2
from peewee import (
    BigAutoField,
    CharField,
    DatabaseProxy,
    DateTimeField,
    Model,
    TextField,
    UUIDField,
)
from playhouse.db_url import connect, parse

SCHEMA = Path(__file__).resolve().parents[2] / "schema.sql"
# A PostgreSQL that accepts connections and never answers must not hold a thread forever.
CONNECT_TIMEOUT = 5

db = DatabaseProxy()
_initialised_with: str | None = None


class Registration(Model):
    id = BigAutoField()
    phone = CharField(max_length=11, unique=True)
    referrer = TextField(null=True)
    request_id = UUIDField(unique=True)
    ip_address = TextField(null=True)  # inet in schema.sql; the web sends only parsed addresses
    user_agent = TextField(null=True)
    created_at = DateTimeField()

    class Meta:
        database = db
        table_name = "registrations"


def init_database(url: str, max_connections: int) -> None:
    """Point the shared handle at a connection pool for url (once per process and url)."""
    global _initialised_with
    if _initialised_with == url:
        return
    pooled = url.replace("postgresql://", "postgresql+pool://", 1)
    db.initialize(
        connect(
            pooled,
            max_connections=max_connections,
            stale_timeout=300,
            timeout=5,  # seconds to wait for a free pooled connection
            connect_timeout=CONNECT_TIMEOUT,
        )
    )
    _initialised_with = url


def create_database_if_missing(url: str) -> bool:
    """Create the database named in url when it does not exist yet; True if it was created."""
    params = parse(url)
    name = params.pop("database")
    conn = psycopg2.connect(dbname="postgres", **params)
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            if cursor.fetchone():
                return False
            cursor.execute(f'CREATE DATABASE "{name}"')
            return True
    finally:
        conn.close()


def apply_schema(owner_url: str) -> None:
    """Run schema.sql as the schema's owner; every statement in it is idempotent."""
    conn = psycopg2.connect(owner_url, connect_timeout=CONNECT_TIMEOUT)
    try:
        with conn, conn.cursor() as cursor:
            cursor.execute(SCHEMA.read_text())
    finally:
        conn.close()
