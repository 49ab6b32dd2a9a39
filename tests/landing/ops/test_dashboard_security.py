"""The dashboard's own CSRF protection and its audit lines, on the real RabbitMQ.

Another port of the same host (RabbitMQ's UI, mongo-express) shares the dashboard's cookies,
so it can plant any cookie, and a form it submits carries them. Nothing it plants is taken
as a token or printed in a page; a POST needs our signed cookie, the same token in its form
and an Origin (or Referer) that is the dashboard's own. Refused POSTs change nothing.
"""

import logging
import re
from http.cookies import SimpleCookie

import pytest
from werkzeug.test import Client

from landing.ops.dashboard import AUDIT, create_dashboard
from landing.ops.dashboard.csrf import COOKIE, FIELD
from landing.shared.privacy import mask_phone
from landing.shared.signup import REGISTRATIONS as QUEUE
from tests.support.config import settings
from tests.support.dashboard import (
    AUTH,
    ORIGIN,
    PHONES,
    csrf_token,
    dead_letter_sign_ups,
    management_api,
    post_action,
    refuse_referrer,
)

FAILED_TAB = f"/dashboard/queues/{QUEUE}/failed"
SCRIPT = "<script>alert(1)</script>"
# The shape of our tokens, unsigned: what a page that read the source could make up.
MADE_UP = "0" * 32 + "." + "0" * 64


@pytest.fixture(scope="module")
def management():
    return management_api()


@pytest.fixture
def dashboard(clean, management):
    return Client(create_dashboard(settings))


@pytest.fixture
def dead_letter(dashboard, worker, owner, broker):
    """One sign-up in registrations.XQ; its request (and message) id."""
    refuse_referrer(owner, True)
    try:
        (request_id,) = dead_letter_sign_ups(broker, PHONES[:1])
    finally:
        refuse_referrer(owner, False)
    return request_id


def dead_count(broker) -> int:
    return broker.get_queue_message_counts(QUEUE)[2]


def set_cookie_of(response) -> SimpleCookie:
    cookie = SimpleCookie()
    for header in response.headers.getlist("Set-Cookie"):
        cookie.load(header)
    return cookie


def form_tokens(page: str) -> list[str]:
    return re.findall(rf'<input type="hidden" name="{FIELD}" value="([^"]*)">', page)


def test_planted_cookies_are_neither_accepted_nor_rendered(dashboard, dead_letter, broker):
    planted = {"x__dd_csrf": SCRIPT, "__dd_csrf": SCRIPT, COOKIE: SCRIPT}
    header = "; ".join(f"{name}={value}" for name, value in planted.items())
    stranger = Client(dashboard.application, use_cookies=False)
    page = stranger.get(FAILED_TAB, headers={**AUTH, "Cookie": header})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and dead_letter in html
    assert "<script" not in html and "alert(1)" not in html
    issued = set_cookie_of(page)[COOKIE].value  # none of the planted ones: a fresh token
    assert form_tokens(html) == [issued, issued]  # Requeue and Delete carry it

    for value in (SCRIPT, MADE_UP):
        form = {"id": dead_letter, "queue": f"{QUEUE}.XQ", "__dd_csrf": value, FIELD: value}
        cookies = f"x__dd_csrf={value}; __dd_csrf={value}; {COOKIE}={value}"
        for action in ("delete-message", "requeue-message"):
            headers = {**AUTH, **ORIGIN, "Cookie": cookies}
            refused = stranger.post(f"/dashboard/{action}", data=form, headers=headers)
            assert (refused.status_code, refused.json["error"]) == (403, "forbidden")
    assert dead_count(broker) == 1


@pytest.mark.parametrize("action", ["delete-message", "requeue-message"])
def test_posts_without_our_token_or_origin_are_refused_and_change_nothing(
    dashboard, dead_letter, broker, action, caplog
):
    elsewhere = "http://localhost:15672"  # the same host, another port
    refusals = {
        "no token": {"form": {FIELD: None}},
        "wrong token": {"form": {FIELD: csrf_token(Client(dashboard.application))}},
        "empty token": {"form": {FIELD: ""}},
        "foreign Origin": {"headers": {"Origin": elsewhere}},
        "Origin null": {"headers": {"Origin": "null"}},
        "other scheme": {"headers": {"Origin": "https://localhost"}},
        "foreign Referer": {"headers": {"Origin": None, "Referer": f"{elsewhere}/#/queues"}},
        "neither Origin nor Referer": {"headers": {"Origin": None}},
    }
    with caplog.at_level(logging.INFO, logger=AUDIT):
        for case, changes in refusals.items():
            refused = post_action(dashboard, action, dead_letter, **changes)
            assert refused.status_code == 403, case
            assert refused.json == {"error": "forbidden", "message": refused.json["message"]}
            assert dead_count(broker) == 1, case
    assert not [r for r in caplog.records if r.name == AUDIT]  # never reached the action
    assert dead_count(broker) == 1

    without_cookie = Client(dashboard.application, use_cookies=False)
    form = {"id": dead_letter, "queue": f"{QUEUE}.XQ", FIELD: csrf_token(dashboard)}
    response = without_cookie.post(f"/dashboard/{action}", data=form, headers={**AUTH, **ORIGIN})
    assert response.status_code == 403 and dead_count(broker) == 1

    # Without an Origin, a Referer from the dashboard's own pages is enough.
    own_page = {"Origin": None, "Referer": f"http://localhost{FAILED_TAB}"}
    assert post_action(dashboard, action, dead_letter, headers=own_page).status_code == 302
    assert dead_count(broker) == 0


def test_the_cookie_is_host_only_strict_http_only_and_kept_for_the_session(dashboard):
    page = dashboard.get("/dashboard/nowhere", headers=AUTH)  # any page under /dashboard
    assert page.status_code == 404 and page.json["error"] == "not_found"
    (header,) = page.headers.getlist("Set-Cookie")
    attributes = {part.split("=")[0].strip().lower() for part in header.split(";")[1:]}
    assert attributes == {"path", "httponly", "samesite"}  # no Domain, Expires or Max-Age
    cookie = set_cookie_of(page)[COOKIE]
    assert (cookie["path"], cookie["samesite"]) == ("/dashboard", "Strict")
    assert re.fullmatch(r"[0-9a-f]{32}\.[0-9a-f]{64}", cookie.value)
    assert page.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]

    again = dashboard.get("/dashboard/nowhere", headers=AUTH)
    assert "Set-Cookie" not in again.headers  # the same token for the whole session
    assert "Set-Cookie" not in dashboard.get("/favicon.ico", headers=AUTH).headers
    assert "Set-Cookie" not in Client(dashboard.application).get("/dashboard/").headers  # 401


@pytest.mark.parametrize(
    ("base_url", "headers"),
    [("https://localhost", {}), ("http://localhost", {"X-Forwarded-Proto": "https"})],
)
def test_over_https_the_cookie_is_secure(dashboard, base_url, headers):
    page = dashboard.get("/dashboard/nowhere", base_url=base_url, headers={**AUTH, **headers})
    assert set_cookie_of(page)[COOKIE]["secure"] is True


def test_requeue_and_delete_write_an_audit_line_without_the_message(
    dashboard, worker, owner, broker, caplog
):
    refuse_referrer(owner, True)
    try:
        ids = dead_letter_sign_ups(broker, PHONES[:2])
    finally:
        refuse_referrer(owner, False)
    with caplog.at_level(logging.INFO, logger=AUDIT):
        assert post_action(dashboard, "requeue-message", ids[0]).status_code == 302
        assert post_action(dashboard, "delete-message", ids[1]).status_code == 302
        assert post_action(dashboard, "delete-message", ids[1]).status_code == 302
        assert post_action(dashboard, "requeue-message", ids[1]).status_code == 410
    lines = [r.getMessage() for r in caplog.records if r.name == AUDIT]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == AUDIT)
    queue = f"queue='{QUEUE}.XQ'"
    assert lines == [
        f"task dashboard audit: user='admin' action=requeue {queue} message_id='{ids[0]}'"
        " outcome=requeued",
        f"task dashboard audit: user='admin' action=delete {queue} message_id='{ids[1]}'"
        " outcome=deleted",
        f"task dashboard audit: user='admin' action=delete {queue} message_id='{ids[1]}'"
        " outcome=not_found",
        f"task dashboard audit: user='admin' action=requeue {queue} message_id='{ids[1]}'"
        " outcome=not_found",
    ]
    everything = caplog.text + "".join(lines)
    assert not any(p in everything or mask_phone(p) in everything for p in PHONES)
