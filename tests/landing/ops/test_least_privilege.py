"""The app's PostgreSQL role reads and inserts sign-ups and can do nothing else; only the
schema's owner (MIGRATE_DATABASE_URL) changes the schema or deletes."""

import pytest
from peewee import ProgrammingError

from landing.shared.db import Registration
from tests.support.signups import attempt


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE registrations SET referrer = 'changed'",
        "DELETE FROM registrations",
        "TRUNCATE registrations",
        "DROP TABLE registrations",
        "ALTER TABLE registrations ADD COLUMN extra text",
        "CREATE TABLE stolen (id int)",
    ],
    ids=["update", "delete", "truncate", "drop", "alter", "create"],
)
def test_the_apps_role_can_only_read_and_insert(clean, workers, database, statement):
    assert workers.register(attempt()) == "registered"  # insert, and read back
    with database.connection_context(), pytest.raises(ProgrammingError) as refused:
        database.execute_sql(statement)
    assert refused.value.orig.pgcode in ("42501", "42P01")  # insufficient privilege
    assert Registration.select().count() == 1


def test_migrate_commands_need_the_owners_url(make_app):
    app = make_app(migrate_database_url="")  # as production leaves a secret it was not given
    result = app.test_cli_runner().invoke(args=["init-db"])
    assert result.exit_code != 0
    assert "MIGRATE_DATABASE_URL" in result.output
