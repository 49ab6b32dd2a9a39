"""Sign-up numbers for operators: registrations per day and per referrer (PostgreSQL), and
per day how many attempts were duplicates or invalid (MongoDB's attempt history).

Days are UTC days. An attempt counts once for each status its history holds, so a
duplicate is an attempt whose history says DUPLICATE_DETECTED, whatever else it says.
"""

from datetime import datetime
from typing import Any

from peewee import Database
from pymongo.collection import Collection

from landing.shared.exports import Filters, selection
from landing.shared.signup import History

PER_DAY_SQL = (
    "SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*) FROM registrations{where}"
    " GROUP BY day ORDER BY day"
)
PER_REFERRER_SQL = (
    "SELECT referrer, count(*) AS n FROM registrations{where}"
    " GROUP BY referrer ORDER BY n DESC, referrer NULLS FIRST LIMIT %s"
)
TOP_REFERRERS = 100
# Of those, how many were verified by SMS (VERIFICATION=sms).
VERIFIED_SQL = "SELECT count(*) FROM registrations JOIN verifications USING (request_id){where}"


def registrations(database: Database, filters: Filters) -> dict[str, Any]:
    where, params = selection(filters)
    with database.connection_context():
        days = database.execute_sql(PER_DAY_SQL.format(where=where), params).fetchall()
        referrers = database.execute_sql(
            PER_REFERRER_SQL.format(where=where), [*params, TOP_REFERRERS]
        ).fetchall()
        [(verified,)] = database.execute_sql(VERIFIED_SQL.format(where=where), params).fetchall()
    return {
        "total": sum(n for _, n in days),
        "verified": verified,
        "per_day": [{"day": day.isoformat(), "registrations": n} for day, n in days],
        "per_referrer": [{"referrer": name, "registrations": n} for name, n in referrers],
    }


def _has(status: str) -> dict[str, Any]:
    return {"$cond": [{"$in": [status, "$statuses"]}, 1, 0]}


def attempt_pipeline(filters: Filters) -> list[dict[str, Any]]:
    received = {
        op: moment
        for op, moment in (("$gte", filters.created_after), ("$lt", filters.created_before))
        if moment is not None
    }
    match = {"received_at": received} if received else {}
    day = {"$dateToString": {"format": "%Y-%m-%d", "date": "$received_at"}}
    return [
        {"$match": match},
        {"$project": {"day": day, "statuses": {"$ifNull": ["$history.status", []]}}},
        {
            "$group": {
                "_id": "$day",
                "attempts": {"$sum": 1},
                "duplicates": {"$sum": _has(History.DUPLICATE_DETECTED)},
                "invalid": {"$sum": _has(History.INVALID)},
            }
        },
        {"$sort": {"_id": 1}},
    ]


def attempts(collection: Collection, filters: Filters) -> list[dict[str, Any]]:
    """Per UTC day: attempts, duplicates, invalid, and the two rates (0 to 1)."""
    days = []
    for group in collection.aggregate(attempt_pipeline(filters)):
        total = group["attempts"]
        days.append(
            {
                "day": group["_id"],
                "attempts": total,
                "duplicates": group["duplicates"],
                "invalid": group["invalid"],
                "duplicate_rate": round(group["duplicates"] / total, 4) if total else 0.0,
                "invalid_rate": round(group["invalid"] / total, 4) if total else 0.0,
            }
        )
    return days


def attempts_per_referrer(collection: Collection, since: datetime) -> dict[str, dict[str, int]]:
    """Per referrer ('' for none), attempts received since then: how many, and how many were
    duplicates, invalid, or rate-limited. Served by the attempt log's index on received_at."""
    statuses = {"statuses": {"$ifNull": ["$history.status", []]}}
    pipeline: list[dict[str, Any]] = [
        {"$match": {"received_at": {"$gte": since}}},
        {"$project": {"referrer": {"$ifNull": ["$referrer", ""]}, **statuses}},
        {
            "$group": {
                "_id": "$referrer",
                "attempts": {"$sum": 1},
                "duplicates": {"$sum": _has(History.DUPLICATE_DETECTED)},
                "invalid": {"$sum": _has(History.INVALID)},
                "limited": {"$sum": _has(History.RATE_LIMITED)},
            }
        },
    ]
    names = ("attempts", "duplicates", "invalid", "limited")
    return {
        group["_id"]: {name: group[name] for name in names}
        for group in collection.aggregate(pipeline)
    }


def stats(database: Database, collection: Collection, filters: Filters) -> dict[str, Any]:
    """Everything `flask --app landing stats` reports; GET /api/admin/stats builds the same."""
    return {**registrations(database, filters), "attempts_per_day": attempts(collection, filters)}
