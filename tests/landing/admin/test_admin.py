"""The operator API: tokens, the audit log, registrations page by page, stats, erasure."""

import hashlib
import logging
from datetime import datetime, timedelta

import pytest

from actors.attempts import log_attempt
from landing.shared.db import Registration
from landing.shared.signup import History, history_entry
from tests.support.admin import (
    AUTH,
    DAY1,
    DAY2,
    DIGEST,
    OTHER_DIGEST,
    SCOPED_ADMIN_TOKENS,
    SCOPED_TOKENS,
    TOKEN,
    phone_number,
    seed,
)
from tests.support.signups import attempt


@pytest.fixture
def admin(clean, make_app):
    """An app with the operator API on (two tokens configured; ours is the second)."""
    return make_app(admin_tokens=f"{OTHER_DIGEST}, {DIGEST.upper()}")


@pytest.fixture
def api(admin):
    return admin.test_client()


def all_pages(api, **query) -> list[dict]:
    rows, cursor = [], None
    while True:
        args = {**query, **({"cursor": cursor} if cursor else {})}
        answer = api.get("/api/admin/registrations", query_string=args, headers=AUTH)
        assert answer.status_code == 200, answer.json
        rows += answer.json["registrations"]
        cursor = answer.json["next_cursor"]
        if cursor is None:
            return rows


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}, {"Authorization": "Bearer "}],
)
def test_a_request_without_the_right_token_is_refused(api, headers):
    for path in ("/api/admin/registrations", "/api/admin/stats", "/api/admin/nothing-here"):
        answer = api.get(path, headers=headers)
        assert answer.status_code == 401
        assert answer.json["error"] == "unauthorized" and answer.json["message"]
        assert answer.headers["WWW-Authenticate"].startswith("Bearer")


def test_the_right_token_is_let_in(api):
    answer = api.get("/api/admin/registrations", headers=AUTH)
    assert answer.status_code == 200
    assert answer.json == {"registrations": [], "next_cursor": None}


def test_the_api_is_off_without_tokens(app):
    answer = app.test_client().get("/api/admin/registrations", headers=AUTH)
    assert answer.status_code == 404
    assert answer.json["error"] == "not_found"


def test_a_token_pasted_as_is_into_admin_tokens_is_refused_at_start(clean, make_app):
    with pytest.raises(ValueError, match="SHA-256"):
        make_app(admin_tokens=TOKEN)


def test_pages_hold_every_row_once_in_order(api, owner):
    seed(owner, 120, step=timedelta(0))  # one instant: the id alone orders them
    seed(owner, 130, start=DAY2, first=120)
    pages = [api.get("/api/admin/registrations", query_string={"limit": 100}, headers=AUTH).json]
    assert len(pages[0]["registrations"]) == 100 and pages[0]["next_cursor"]
    rows = all_pages(api, limit=100)
    assert [row["phone"] for row in rows] == [phone_number(n) for n in range(250)]
    assert rows[0].keys() == {
        "id", "phone", "referrer", "request_id", "ip_address", "user_agent", "created_at",
        "verified_at",
    }  # fmt: skip
    assert rows[0]["verified_at"] is None  # none was verified by SMS
    assert rows[-1]["created_at"] == (DAY2 + timedelta(seconds=129)).isoformat()


def test_filters_narrow_the_rows(api, owner):
    seed(owner, 10, referrer="ads")
    seed(owner, 5, start=DAY2, referrer="mail", first=10)
    assert len(all_pages(api, referrer="ads")) == 10
    assert len(all_pages(api, created_after="2026-11-02")) == 5
    assert len(all_pages(api, created_before="2026-11-01T09:00:03Z")) == 3
    assert len(all_pages(api, referrer="ads", created_after="2026-11-01T09:00:08+00:00")) == 2
    # A prefix is read like a phone: Persian digits, +98 and separators are the stored form.
    assert [row["phone"] for row in all_pages(api, phone_prefix="+98 912 000 001")] == [
        phone_number(n) for n in range(10, 15)
    ]
    assert len(all_pages(api, phone_prefix="۰۹۱۲")) == 15


@pytest.mark.parametrize(
    "query",
    [
        {"limit": 501},
        {"limit": 0},
        {"limit": "many"},
        {"cursor": "not-a-cursor"},
        {"created_after": "yesterday"},
        {"phone_prefix": "09x"},
    ],
)
def test_bad_arguments_are_a_400(api, query):
    answer = api.get("/api/admin/registrations", query_string=query, headers=AUTH)
    assert answer.status_code == 400
    assert answer.json["error"] == "invalid" and answer.json["message"]


def log_attempts_on(day: datetime, statuses: list[str]) -> None:
    for n, status in enumerate(statuses):
        at = (day + timedelta(minutes=n)).isoformat(timespec="milliseconds")
        sent = attempt(phone_number(900 + n), received_at=at)
        log_attempt(sent, [history_entry(History.QUEUED, at=at), history_entry(status, at=at)])


def test_stats_count_registrations_and_rate_attempts(api, owner, mongo):
    seed(owner, 3, referrer="ads")
    seed(owner, 2, referrer=None, first=3)
    seed(owner, 4, start=DAY2, referrer="mail", first=5)
    ok, dup, bad = History.SUCCESS_POSTGRES, History.DUPLICATE_DETECTED, History.INVALID
    log_attempts_on(DAY1, [ok, ok, dup, bad])
    log_attempts_on(DAY2, [ok, dup, dup, dup, bad])

    report = api.get("/api/admin/stats", headers=AUTH).json

    assert report["total"] == 9
    assert report["per_day"] == [
        {"day": "2026-11-01", "registrations": 5},
        {"day": "2026-11-02", "registrations": 4},
    ]
    assert report["per_referrer"] == [
        {"referrer": "mail", "registrations": 4},
        {"referrer": "ads", "registrations": 3},
        {"referrer": None, "registrations": 2},
    ]
    day1, day2 = report["attempts_per_day"]
    assert day1 == {
        "day": "2026-11-01", "attempts": 4, "duplicates": 1, "invalid": 1,
        "duplicate_rate": 0.25, "invalid_rate": 0.25,
    }  # fmt: skip
    assert (day2["attempts"], day2["duplicate_rate"], day2["invalid_rate"]) == (5, 0.6, 0.2)
    later = api.get("/api/admin/stats?created_after=2026-11-02", headers=AUTH).json
    assert later["total"] == 4 and len(later["attempts_per_day"]) == 1


def test_erase_removes_the_number(api, owner, mongo):
    seed(owner, 2)
    log_attempts_on(DAY1, [History.SUCCESS_POSTGRES])  # phone_number(900)
    answer = api.delete(f"/api/admin/phones/{phone_number(900)}", headers=AUTH)
    assert answer.status_code == 200
    assert answer.json["attempts"] == 1 and answer.json["registrations"] == 0
    answer = api.delete("/api/admin/phones/+98 912 000 0001", headers=AUTH)
    assert answer.json["registrations"] == 1
    assert [row.phone for row in Registration.select()] == [phone_number(0)]
    assert api.delete("/api/admin/phones/12345", headers=AUTH).status_code == 400


def test_erase_needs_the_schema_owner(clean, make_app):
    api = make_app(admin_tokens=DIGEST, migrate_database_url="").test_client()
    answer = api.delete(f"/api/admin/phones/{phone_number(1)}", headers=AUTH)
    assert answer.status_code == 503
    assert "MIGRATE_DATABASE_URL" in answer.json["message"]


def test_every_access_is_audited_without_tokens_or_phones(api, owner, caplog):
    seed(owner, 1)
    caplog.set_level(logging.INFO, logger="landing.admin.audit")
    api.get("/api/admin/registrations?phone_prefix=0912&09121234567=x", headers=AUTH)
    api.delete(f"/api/admin/phones/{phone_number(0)}", headers=AUTH)
    api.get("/api/admin/stats", headers={"Authorization": "Bearer wrong"})

    lines = [r.getMessage() for r in caplog.records if r.name == "landing.admin.audit"]
    assert len(lines) == 3
    assert f"token={DIGEST[:8]}" in lines[0] and "status=200" in lines[0]
    assert "query=other,phone_prefix" in lines[0]
    assert "DELETE /api/admin/phones/<phone>" in lines[1]
    assert "status=401 token=- scopes=-" in lines[2]
    assert lines[0].endswith("scopes=read+export+erase")
    for line in lines:
        assert TOKEN not in line and "wrong" not in line and DIGEST not in line
        assert "0912" not in line


def test_reads_go_to_the_replica_when_one_is_set(clean, make_app, owner):
    seed(owner, 1)
    nowhere = "postgresql://landing@127.0.0.1:1/landing"
    api = make_app(admin_tokens=DIGEST, database_read_url=nowhere).test_client()
    for path in ("/api/admin/registrations", "/api/admin/stats"):
        answer = api.get(path, headers=AUTH)
        assert answer.status_code == 503, path
        assert answer.json["error"] == "unavailable"


# Every operator route, the scope it needs, and what it answers a token that has that scope.
ROUTES = [
    ("GET", "/api/admin/registrations", "read", 200),
    ("GET", "/api/admin/stats", "read", 200),
    ("POST", "/api/admin/exports", "export", 202),
    ("GET", "/api/admin/exports/00000000-0000-0000-0000-000000000000", "export", 404),
    ("GET", "/api/admin/exports/00000000-0000-0000-0000-000000000000/file", "export", 404),
    ("DELETE", f"/api/admin/phones/{phone_number(0)}", "erase", 200),
]


@pytest.mark.parametrize("token", sorted(SCOPED_TOKENS))
def test_a_token_calls_only_the_routes_its_scopes_allow(clean, make_app, owner, token):
    api = make_app(admin_tokens=f"{SCOPED_ADMIN_TOKENS}, {DIGEST}").test_client()
    seed(owner, 1)
    granted = SCOPED_TOKENS[token].split("+")
    for method, path, scope, status in ROUTES:
        answer = api.open(path, method=method, headers={"Authorization": f"Bearer {token}"})
        if scope in granted:
            assert answer.status_code == status, (method, path, answer.json)
        else:
            assert answer.status_code == 403, (method, path)
            assert answer.json == {
                "error": "forbidden",
                "message": f"This token lacks the {scope} scope.",
            }
    # Refusals change nothing: the one row is still there unless this token may erase.
    assert Registration.select().count() == (0 if "erase" in granted else 1)


def test_a_refusal_for_want_of_a_scope_is_audited_with_the_tokens_scopes(
    clean, make_app, owner, caplog
):
    api = make_app(admin_tokens=SCOPED_ADMIN_TOKENS).test_client()
    seed(owner, 1)
    caplog.set_level(logging.INFO, logger="landing.admin.audit")
    reader = {"Authorization": "Bearer reader"}
    api.delete(f"/api/admin/phones/{phone_number(0)}", headers=reader)
    api.get("/api/admin/registrations", headers=reader)
    api.post("/api/admin/exports", headers={"Authorization": "Bearer exporter"})

    lines = [r.getMessage() for r in caplog.records if r.name == "landing.admin.audit"]
    prefix = hashlib.sha256(b"reader").hexdigest()[:8]
    assert lines[0] == (
        f"admin DELETE /api/admin/phones/<phone> query=- status=403 token={prefix} scopes=read"
    )
    assert lines[1].endswith(f"status=200 token={prefix} scopes=read")
    assert lines[2].endswith("scopes=read+export") and "status=202" in lines[2]
    assert all("0912" not in line for line in lines)
    assert Registration.select().count() == 1
