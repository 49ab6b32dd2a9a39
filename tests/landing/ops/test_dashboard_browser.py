"""The task dashboard in a real browser: headless Chromium under Playwright, behind basic
auth, over real HTTP.

A context opened with http_credentials answers the dashboard's challenge as a browser whose
user typed the password: the first request gets the 401 and the challenge, the retry carries
the credentials, and later requests to the same place carry them too. The operator clicks
Requeue and Delete with the mouse, as a person would. The screenshots land in results/
(git-ignored).
"""

import json
import re
import threading
from pathlib import Path
from urllib.error import HTTPError
from urllib.parse import urlsplit
from urllib.request import ProxyHandler, Request, build_opener

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page
from werkzeug.serving import make_server

from landing.ops.dashboard import create_dashboard
from landing.ops.dashboard.csrf import COOKIE
from landing.shared.privacy import mask_phone
from landing.shared.signup import REGISTRATIONS as QUEUE
from tests.support.config import settings
from tests.support.dashboard import (
    AUTH,
    PHONES,
    dead_letter_sign_ups,
    management_api,
    refuse_referrer,
    shown_counts,
    submit,
)
from tests.support.services import ROOT, wait_for

RESULTS = ROOT / "results"
direct = build_opener(ProxyHandler({}))  # 127.0.0.1 only, whatever http_proxy says
OPERATOR = {"username": "admin", "password": "admin"}


@pytest.fixture
def served(clean):
    """The dashboard's WSGI app on a real HTTP server on a free port, for this test."""
    management_api()
    server = make_server("127.0.0.1", 0, create_dashboard(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def operator(new_context) -> Page:
    """A tab of a browser whose operator has typed the dashboard's password."""
    return new_context(http_credentials=OPERATOR).new_page()


@pytest.fixture
def refused_referrer(owner):
    refuse_referrer(owner, True)
    yield
    refuse_referrer(owner, False)


def dom(page: Page, url: str) -> str:
    """The page as Chromium built it, whitespace collapsed."""
    response = page.goto(url)
    assert response is not None and response.status == 200, url
    return re.sub(r"\s+", " ", page.content())


def screenshot(page: Page, url: str, name: str) -> Path:
    """The page at this URL as its window shows it (1280x960), in results/."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.unlink(missing_ok=True)
    assert page.goto(url).status == 200, url
    page.screenshot(path=path)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {path}")
    return path


def fetch(url: str) -> str:
    with direct.open(Request(url, headers=AUTH), timeout=10) as response:
        return re.sub(r"\s+", " ", response.read().decode())


def test_operator_sees_counts_and_opens_a_dead_letter(
    served, worker, refused_referrer, broker, operator
):
    ids = dead_letter_sign_ups(broker, PHONES[:2])
    wait_for(
        lambda: shown_counts(fetch(f"{served}/dashboard/")) == ("0", "0", "2"),
        timeout=20,
        interval=0.5,
    )

    assert shown_counts(dom(operator, f"{served}/dashboard/")) == ("0", "0", "2")
    failed = dom(operator, f"{served}/dashboard/queues/{QUEUE}/failed")
    assert 'Failed (<em class="em em--tertiary">2</em>)' in failed
    assert mask_phone(PHONES[0]) in failed and PHONES[0] not in failed
    job = dom(operator, f"{served}/dashboard/queues/{QUEUE}/failed/{ids[0]}")
    assert f"<title>Job {ids[0]} in {QUEUE} :: Dramatiq Dashboard</title>" in job
    assert "<pre>register</pre>" in job and "StoreRefused" in job
    assert mask_phone(PHONES[0]) in job and PHONES[0] not in job

    home = screenshot(operator, f"{served}/dashboard/", "dashboard-home.png")
    tab = screenshot(operator, f"{served}/dashboard/queues/{QUEUE}/failed", "dashboard-failed.png")
    assert home.stat().st_size > 10_000 and tab.stat().st_size > 10_000


def test_without_credentials_the_browser_gets_nothing_but_a_401(served, new_context):
    with pytest.raises(HTTPError) as caught:
        direct.open(f"{served}/dashboard/", timeout=10)
    assert caught.value.code == 401
    assert json.load(caught.value)["error"] == "unauthorized"
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic ")

    # A browser nobody typed a password into: headless cannot prompt, so it gives up, and
    # shows its own error page once it has left about:blank.
    page = new_context().new_page()
    answers = []
    page.on("response", lambda response: answers.append(response.status))
    with pytest.raises(PlaywrightError, match="ERR_INVALID_AUTH_CREDENTIALS"):
        page.goto(f"{served}/dashboard/")
    page.wait_for_url("chrome-error://**")
    assert answers == [401]
    assert "Dramatiq Dashboard" not in page.content()

    # One with the wrong password: answered 401 again after its retry, shown only the error.
    page = new_context(http_credentials={"username": "admin", "password": "wrong"}).new_page()
    response = page.goto(f"{served}/dashboard/")
    assert response.status == 401
    assert response.headers["www-authenticate"].startswith("Basic ")
    assert json.loads(page.evaluate("document.body.innerText"))["error"] == "unauthorized"
    assert "Dramatiq Dashboard" not in page.content()


def button(action: str, message_id: str) -> str:
    """The CSS selector of a dead letter's Requeue or Delete button."""
    return f'form[action$="/{action}"]:has(input[name="id"][value="{message_id}"]) button'


def test_operator_requeues_and_deletes_by_clicking(
    served, operator, client, worker, owner, refused_referrer, broker
):
    ids = dead_letter_sign_ups(broker, PHONES)
    wait_for(lambda: client.get(f"/api/register/{ids[0]}").json["status"] == "failed")
    refuse_referrer(owner, False)  # the operator fixed what PostgreSQL refused
    failed_tab = f"/dashboard/queues/{QUEUE}/failed"
    assert operator.goto(served + failed_tab).status == 200

    # Real form POSTs, clicked with the mouse: cookie, token and Origin as a browser sends them.
    assert submit(operator, button("requeue-message", ids[0])).status == 302
    assert urlsplit(operator.url).path == failed_tab
    wait_for(lambda: client.get(f"/api/register/{ids[0]}").json["status"] == "registered")
    assert submit(operator, button("delete-message", ids[1])).status == 302
    assert urlsplit(operator.url).path == failed_tab
    assert broker.get_queue_message_counts(QUEUE)[2] == 1
    page = operator.evaluate("document.body.innerHTML")
    assert ids[2] in page and ids[0] not in page and ids[1] not in page

    (cookie,) = [c for c in operator.context.cookies() if c["name"] == COOKIE]
    assert (cookie["domain"], cookie["path"], cookie["sameSite"]) == (
        "127.0.0.1",
        "/dashboard",
        "Strict",
    )
    assert cookie["httpOnly"] and cookie["expires"] == -1 and not cookie["secure"]  # -1: session
    assert operator.evaluate("document.cookie") == ""  # no script of any page can read it
