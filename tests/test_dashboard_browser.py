"""The task dashboard in a real browser: headless Chromium, behind basic auth, over real HTTP.

Chromium is driven from its command line (--dump-dom, --screenshot), so no browser driver is
needed. It takes basic-auth credentials from the URL (http://user:password@host/) for a
top-level navigation: the first request gets the 401 and the challenge, the retry carries
the credentials. The screenshots land in results/ (git-ignored).
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
)
from tests.support.services import ROOT, wait_for

CHROMIUM = Path("/usr/bin/chromium")
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
def refused_referrer(database):
    refuse_referrer(database, True)
    yield
    refuse_referrer(database, False)


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Run headless Chromium once with a fresh profile (no cached credentials)."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: apt-get install chromium (Debian's package)")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={tmp_path / uuid.uuid4().hex}",
        "--window-size=1280,960",
        *args,
    ]
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
    assert "<pre>register</pre>" in job and "StoreFailed" in job
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
