"""Splitting a batch: PostgreSQL refusing one row's data fails only that row, while an
outage fails the whole batch at once. On the real PostgreSQL (the fast tier's only store
here); no process is started."""

import pytest
from peewee import IntegrityError, OperationalError

from actors.rows import write
from landing.shared.db import Registration, db
from landing.shared.tombstones import Tombstones
from tests.support.config import settings as test_settings
from tests.support.signups import signup

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

TOMBSTONES = Tombstones(test_settings.erasure_secret)


@pytest.fixture
def empty(owner):
    """The registrations table empty, as the schema's owner empties it."""
    with owner.cursor() as cursor:
        cursor.execute("TRUNCATE registrations RESTART IDENTITY")
    yield
    db.close()


def test_a_refused_row_fails_only_itself_in_a_batch(empty):
    good, refused, also_good = signup("09120000001"), signup("123"), signup("09120000002")
    outcomes = write([good, refused, also_good], TOMBSTONES)
    assert outcomes[0][0] == outcomes[2][0] == "registered"
    assert isinstance(outcomes[1], IntegrityError)
    assert {row.phone for row in Registration.select()} == {"09120000001", "09120000002"}


def test_an_outage_fails_a_batch_whole_instead_of_row_by_row(empty, owner):
    # The table locked by another session and a lock timeout: a real outage-class error.
    batch = [signup(f"091200000{n:02d}") for n in range(3)]
    with owner.cursor() as locker:
        locker.execute("BEGIN; LOCK TABLE registrations IN ACCESS EXCLUSIVE MODE")
        db.connect(reuse_if_open=True)
        db.execute_sql("SET lock_timeout = '200ms'")
        try:
            outcomes = write(batch, TOMBSTONES)
        finally:
            locker.execute("ROLLBACK")
            db.close()
            db.close_all()  # no pooled connection keeps the lock timeout
    # One failed statement answers for every row: none was tried again on its own.
    assert all(outcome is outcomes[0] for outcome in outcomes)
    assert isinstance(outcomes[0], OperationalError)
    assert Registration.select().count() == 0
