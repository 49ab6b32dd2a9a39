"""The app's PostgreSQL role: it may read and insert sign-ups (and count them), nothing else.

The web and the workers connect as DATABASE_URL's user. The schema belongs to
MIGRATE_DATABASE_URL's user, which only `flask --app landing migrate|init-db` (and
erase-phone, which deletes) ever uses. A leaked app password can then add sign-ups and read
them, but not change, delete or drop anything.
"""

import psycopg2
from playhouse.db_url import parse
from psycopg2 import sql

from landing.shared.db import CONNECT_TIMEOUT

GRANTS = (
    "REVOKE ALL ON registrations FROM {role}",
    "GRANT CONNECT ON DATABASE {database} TO {role}",
    "GRANT USAGE ON SCHEMA public TO {role}",
    "GRANT SELECT, INSERT ON registrations TO {role}",
    "GRANT USAGE ON SEQUENCE registrations_id_seq TO {role}",
    # Workers read tombstones before they store, log or announce; only an erase writes them.
    "REVOKE ALL ON erasures FROM {role}",
    "GRANT SELECT ON erasures TO {role}",
    # The sign-ups' counts: the workers add to them (an upsert needs UPDATE) as they insert.
    "REVOKE ALL ON signup_counts FROM {role}",
    "GRANT SELECT, INSERT, UPDATE ON signup_counts TO {role}",
    # A number verified by SMS: a row inserted once, never changed (only an erase deletes it).
    "REVOKE ALL ON verifications FROM {role}",
    "GRANT SELECT, INSERT ON verifications TO {role}",
)


def grant_app_role(owner_url: str, app_url: str) -> str:
    """Create the app's role if it is missing (with the URL's password) and give it exactly
    GRANTS; returns what was done. Nothing to do when the app connects as the owner."""
    owner, app = parse(owner_url), parse(app_url)
    if app.get("user", "postgres") == owner.get("user", "postgres"):
        return "the app connects as the schema's owner: no grants"
    conn = psycopg2.connect(owner_url, connect_timeout=CONNECT_TIMEOUT)
    try:
        with conn, conn.cursor() as cursor:
            created = _create_role(cursor, app["user"], app.get("password"))
            names = {
                "role": sql.Identifier(app["user"]),
                "database": sql.Identifier(app["database"]),
            }
            for grant in GRANTS:
                cursor.execute(sql.SQL(grant).format(**names))
    finally:
        conn.close()
    return f"role {app['user']} {'created and ' if created else ''}granted SELECT, INSERT"


def _create_role(cursor, role: str, password: str | None) -> bool:
    cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,))
    if cursor.fetchone():
        return False
    statement = sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role))
    if password:
        statement += sql.SQL(" PASSWORD {}").format(sql.Literal(password))
    cursor.execute(statement)
    return True
