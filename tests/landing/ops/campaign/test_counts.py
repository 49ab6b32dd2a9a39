"""signup_counts, the campaign page's rollup: only rows actually inserted are counted, an
erase takes its row out, and creating the table counts what was already stored."""

from actors.attempts import log_attempt
from landing.ops.database_roles import grant_app_role
from landing.shared.db import apply_schema
from landing.shared.signup import History, history_entry
from tests.support.signups import attempt

PHONES = ["09120000001", "09120000002", "09120000003"]
UNITS = ("minute", "hour", "day")


def counts(owner) -> dict[tuple[str, str], int]:
    """Sign-ups per (unit, referrer), summed over every minute, hour or day."""
    with owner.cursor() as cursor:
        cursor.execute("SELECT unit, referrer, sum(n) FROM signup_counts GROUP BY 1, 2")
        return {(unit, referrer): int(n) for unit, referrer, n in cursor.fetchall()}


def test_a_batch_redelivered_counts_once(clean, workers, owner) -> None:
    batch = [
        attempt(PHONES[0], referrer="utm_source=a"),
        attempt(PHONES[1], referrer="utm_source=a"),
        attempt(PHONES[2], referrer=None),
    ]
    workers.register_batch(batch)
    workers.register_batch(batch)  # the same messages again: a redelivery
    workers.register(batch[0])
    workers.register(attempt(PHONES[0], referrer="utm_source=a"))  # a duplicate number

    expected = {"utm_source=a": 2, "": 1}
    assert counts(owner) == {(u, r): n for u in UNITS for r, n in expected.items()}


def test_erasure_takes_its_row_out_of_the_counts(clean, workers, owner, app) -> None:
    for phone in PHONES[:2]:
        sent = attempt(phone, referrer="utm_source=b")
        workers.register(sent)
        log_attempt(sent, [history_entry(History.QUEUED)])

    output = app.test_cli_runner().invoke(args=["erase-phone", PHONES[0]])

    assert output.exit_code == 0, output.output
    assert counts(owner) == {(unit, "utm_source=b"): 1 for unit in UNITS}


def test_creating_the_table_counts_the_rows_already_stored(clean, workers, owner, settings) -> None:
    for phone, referrer in zip(PHONES, ["x", "x", "y"], strict=True):
        workers.register(attempt(phone, referrer=referrer))
    with owner.cursor() as cursor:
        cursor.execute("DROP TABLE signup_counts")
    try:
        apply_schema(settings.migrate_database_url)
        apply_schema(settings.migrate_database_url)  # again: nothing more
    finally:
        grant_app_role(settings.migrate_database_url, settings.database_url)

    assert counts(owner) == {**{(u, "x"): 2 for u in UNITS}, **{(u, "y"): 1 for u in UNITS}}
    workers.register(attempt("09129999999", referrer="y"))  # the app's role counts again
    assert counts(owner)[("hour", "y")] == 2
