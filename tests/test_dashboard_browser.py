"""The task dashboard in a real browser: headless Chromium, behind basic auth, over real HTTP.

Chromium is driven from its command line (--dump-dom, --screenshot) or, to click Requeue and
Delete, over the DevTools protocol on a pipe (tests/support/browser.py:Browser), so no
browser driver is needed. It takes basic-auth credentials from the URL
(http://user:password@host/) for a top-level navigation: the first request gets the 401 and
the challenge, the retry carries the credentials, and later requests to the same place
carry them too. The screenshots land in results/ (git-ignored).
"""

import json
import re
import subprocess
import threading
import uuid
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import ProxyHandler, Request, build_opener

import pytest
from werkzeug.serving import make_server

from landing.ops.dashboard import create_dashboard
from landing.ops.dashboard.csrf import COOKIE
from landing.shared.privacy import mask_phone
from landing.shared.signup import REGISTRATIONS as QUEUE
from tests.support.browser import CHROMIUM, FLAGS, Browser
from tests.support.config import settings
from tests.support.dashboard import (
    AUTH,
    PHONES,
    dead_letter_sign_ups,
    management_api,
    refuse_referrer,
    shown_counts,
)
from tests.support.services import ROOT, wait_for

RESULTS = ROOT / "results"
direct = build_opener(ProxyHandler({}))  # 127.0.0.1 only, whatever http_proxy says


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
def browser(tmp_path):
    """A headless Chromium to click in, with a fresh profile; closed after the test."""
    opened = Browser(tmp_path / "clicking-profile")
    yield opened
    opened.close()


@pytest.fixture
def refused_referrer(owner):
    refuse_referrer(owner, True)
    yield
    refuse_referrer(owner, False)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium once with a fresh profile (no cached credentials)."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install chromium (Debian's package)")
    command = [str(CHROMIUM), *FLAGS, f"--user-data-dir={tmp_path / uuid.uuid4().hex}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


def dom(tmp_path: Path, url: str) -> str:
    """The page as Chromium built it, whitespace collapsed."""
    return re.sub(r"\s+", " ", chromium(tmp_path, "--dump-dom", url).stdout)


def screenshot(tmp_path: Path, url: str, name: str) -> Path:
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / name
    path.unlink(missing_ok=True)
    chromium(tmp_path, f"--screenshot={path}", url)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    print(f"screenshot: {path}")
    return path


def fetch(url: str) -> str:
    with direct.open(Request(url, headers=AUTH), timeout=10) as response:
        return re.sub(r"\s+", " ", response.read().decode())


def test_operator_sees_counts_and_opens_a_dead_letter(
    served, worker, refused_referrer, broker, tmp_path
):
    ids = dead_letter_sign_ups(broker, PHONES[:2])
    wait_for(
        lambda: shown_counts(fetch(f"{served}/dashboard/")) == ("0", "0", "2"),
        timeout=20,
        interval=0.5,
    )
    signed_in = served.replace("http://", "http://admin:admin@")

    assert shown_counts(dom(tmp_path, f"{signed_in}/dashboard/")) == ("0", "0", "2")
    failed = dom(tmp_path, f"{signed_in}/dashboard/queues/{QUEUE}/failed")
    assert 'Failed (<em class="em em--tertiary">2</em>)' in failed
    assert mask_phone(PHONES[0]) in failed and PHONES[0] not in failed
    job = dom(tmp_path, f"{signed_in}/dashboard/queues/{QUEUE}/failed/{ids[0]}")
    assert f"<title>Job {ids[0]} in {QUEUE} :: Dramatiq Dashboard</title>" in job
    assert "<pre>register</pre>" in job and "StoreRefused" in job
    assert mask_phone(PHONES[0]) in job and PHONES[0] not in job

    home = screenshot(tmp_path, f"{signed_in}/dashboard/", "dashboard-home.png")
    tab = screenshot(
        tmp_path, f"{signed_in}/dashboard/queues/{QUEUE}/failed", "dashboard-failed.png"
    )
    assert home.stat().st_size > 10_000 and tab.stat().st_size > 10_000


def test_without_credentials_the_browser_gets_nothing_but_a_401(served, tmp_path):
    with pytest.raises(HTTPError) as caught:
        direct.open(f"{served}/dashboard/", timeout=10)
    assert caught.value.code == 401
    assert json.load(caught.value)["error"] == "unauthorized"
    assert caught.value.headers["WWW-Authenticate"].startswith("Basic ")

    run = chromium(tmp_path, "--dump-dom", f"{served}/dashboard/")
    assert "Dramatiq Dashboard" not in run.stdout
    assert "ERR_INVALID_AUTH_CREDENTIALS" in run.stderr  # headless cannot prompt: it gives up


def button(action: str, message_id: str) -> str:
    """The CSS selector of a dead letter's Requeue or Delete button."""
    return f'form[action$="/{action}"]:has(input[name="id"][value="{message_id}"]) button'


def test_operator_requeues_and_deletes_by_clicking(
    served, browser, client, worker, owner, refused_referrer, broker
):
    ids = dead_letter_sign_ups(broker, PHONES)
    wait_for(lambda: client.get(f"/api/register/{ids[0]}").json["status"] == "failed")
    refuse_referrer(owner, False)  # the operator fixed what PostgreSQL refused
    failed_tab = f"/dashboard/queues/{QUEUE}/failed"
    browser.open(served.replace("http://", "http://admin:admin@") + failed_tab)

    browser.click(button("requeue-message", ids[0]))  # a real form POST: cookie, token, Origin
    assert browser.evaluate("location.pathname") == failed_tab
    wait_for(lambda: client.get(f"/api/register/{ids[0]}").json["status"] == "registered")
    browser.click(button("delete-message", ids[1]))
    assert browser.evaluate("location.pathname") == failed_tab
    assert broker.get_queue_message_counts(QUEUE)[2] == 1
    page = browser.evaluate("document.body.innerHTML")
    assert ids[2] in page and ids[0] not in page and ids[1] not in page

    (cookie,) = [c for c in browser.call("Storage.getCookies")["cookies"] if c["name"] == COOKIE]
    assert (cookie["domain"], cookie["path"], cookie["sameSite"]) == (
        "127.0.0.1",
        "/dashboard",
        "Strict",
    )
    assert cookie["httpOnly"] and cookie["session"] and not cookie["secure"]
    assert browser.evaluate("document.cookie") == ""  # no script of any page can read it
