"""The campaign page's attempt-log figures: an unreachable MongoDB is not asked again on
every refresh (each ask would cost the page its timeout)."""

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from landing.ops.campaign.figures import ATTEMPTS_RETRY, AttemptFigures

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

NOWHERE = "mongodb://127.0.0.1:9/nothing"  # the discard port: nothing listens


def test_an_unreachable_attempt_log_is_asked_again_only_after_a_while() -> None:
    clock, asked = [0.0], []
    client: MongoClient = MongoClient(NOWHERE, serverSelectionTimeoutMS=50, connect=False)
    figures = AttemptFigures(client.nothing.attempts, clock=lambda: clock[0])
    aggregate = figures.collection.aggregate

    def counted(*args: Any, **kwargs: Any) -> Any:
        asked.append(clock[0])
        return aggregate(*args, **kwargs)

    figures.collection.aggregate = counted  # type: ignore[method-assign]
    try:
        for moment in (0.0, 1.0, ATTEMPTS_RETRY + 1):
            clock[0] = moment
            with pytest.raises(PyMongoError):
                figures.read(datetime.now(UTC))
    finally:
        client.close()
    assert asked == [0.0, ATTEMPTS_RETRY + 1]
