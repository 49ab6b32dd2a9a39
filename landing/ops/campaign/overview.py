"""The campaign page's figures, ready for its templates: each part read on its own, so one
store that does not answer leaves the rest of the page (that part shows None)."""

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg2
from flask import current_app
from peewee import PeeweeException
from pymongo.errors import PyMongoError
from redis.exceptions import RedisError

from landing.admin.queries import StatementTimeout
from landing.ops.campaign.figures import pipeline, referrers, series, verified
from landing.ops.campaign.plots import bars
from landing.ops.campaign.texts import TEXTS, digits_for

# A store or RabbitMQ's management API not answering (OSError: urllib's errors).
UNAVAILABLE = (psycopg2.Error, PeeweeException, PyMongoError, RedisError, OSError)
log = logging.getLogger(__name__)


def _read[T](name: str, read: Callable[[], T]) -> T | None:
    try:
        return read()
    except (StatementTimeout, *UNAVAILABLE) as error:
        log.warning("campaign page: %s unavailable (%s)", name, type(error).__name__)
        return None


def overview(referrer: str | None, lang: str) -> dict[str, Any]:
    """The figures, plots and referrer table for the page (None where unreadable)."""
    now = datetime.now(UTC)
    queries = current_app.extensions["campaign_queries"]
    found = _read("sign-ups", lambda: queries.run(series, referrer, now))
    top = _read("referrers", lambda: queries.run(referrers)) or []
    attempts = _read("attempt log", lambda: current_app.extensions["attempt_figures"].read(now))
    api = current_app.extensions["management_api"]
    return {
        "now": now,
        "series": found,
        "today": found.today(now) if found else None,
        "verified": _read("verified", lambda: queries.run(verified, referrer)),
        "plots": _plots(found, lang) if found else None,
        "referrers": _table(top, attempts or {}),
        "attempts": attempts,
        "limited": sum(a["limited"] for a in attempts.values()) if attempts else None,
        "pipeline": _read("RabbitMQ", lambda: pipeline(api, now)),
    }


def _plots(found: Any, lang: str) -> dict[str, str]:
    t, d = TEXTS[lang], digits_for(lang)
    per_day = found.per_day
    return {
        "per_minute": bars(
            [(at.strftime("%H:%M"), n) for at, n in found.per_minute], t["per_minute"], d, 10
        ),
        "per_hour": bars([(at.strftime("%H"), n) for at, n in found.per_hour], t["per_hour"], d, 6),
        "per_day": bars(
            [(at.strftime("%m-%d"), n) for at, n in per_day],
            t["per_day"],
            d,
            max(1, len(per_day) // 8),
        ),
    }


def _table(top: list[tuple[str, int]], attempts: dict[str, dict[str, int]]) -> list[dict]:
    """One row per referrer: sign-ups, share of all shown, and the attempt log's last day."""
    total = sum(n for _, n in top) or 1
    empty = {"attempts": 0, "duplicates": 0, "invalid": 0, "limited": 0}
    return [
        {"referrer": r, "signups": n, "share": n / total, **attempts.get(r, empty)} for r, n in top
    ]
