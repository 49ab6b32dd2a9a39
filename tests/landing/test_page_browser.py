"""The landing page in headless Chromium (Playwright) against the real gunicorn: typing
Persian digits with the keyboard alone, RabbitMQ stopped while submitting, and a page on
another origin.

The page's own state is read from the result region's data-state (what it shows) and
data-attempts (how many sends it retried). Screenshots land in results/ (git-ignored).
"""

import shutil
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest
from playwright.sync_api import Page, expect

from landing.shared.db import Registration
from tests.support.processes import running_gunicorn
from tests.support.services import ROOT, control, wait_for
from tests.support.workers import in_process_worker

STATIC = ROOT / "landing" / "static"
RESULTS = ROOT / "results"
PERSIAN_PHONE = "۰۹۱۲۳۴۵۶۷۸۹"  # 09123456789 in Persian digits
ARABIC_PHONE = "٠٩١٢٧٦٥٤٣٢١"  # 09127654321 in Arabic-Indic digits


def state(page: Page) -> str | None:
    return page.evaluate("document.getElementById('result').dataset.state || null")


def shows(page: Page, wanted: str, timeout: float = 30) -> None:
    expect(page.locator("#result")).to_have_attribute("data-state", wanted, timeout=timeout * 1000)


def retried(page: Page, times: int, timeout: float = 30) -> None:
    """Wait until the page has retried its send at least this many times."""
    page.wait_for_function(
        "times => Number(document.getElementById('result').dataset.attempts || 0) >= times",
        arg=times,
        timeout=timeout * 1000,
    )


def stored(*phones: str, timeout: float = 30) -> None:
    """Wait until the worker has stored each of these numbers: the page's "accepted" is the
    API's promise, which the page no longer waits to see kept (it polls nothing)."""

    def all_stored():
        return Registration.select().where(Registration.phone.in_(phones)).count() == len(phones)

    wait_for(all_stored, timeout=timeout)


def sign_up_by_keyboard(page: Page, phone: str) -> None:
    """Tab past the language toggle to the number, type it as an input method would (any
    script), and press Enter."""
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.locator("#phone")).to_be_focused()
    page.keyboard.insert_text(phone)
    page.keyboard.press("Enter")


@contextmanager
def started_worker(broker):
    """A Dramatiq worker on both queues, started now (after an outage: fresh connections)."""
    with in_process_worker(broker) as running:
        yield running


def test_persian_digits_typed_by_keyboard_are_accepted_and_stored(
    tmp_path, page, console, worker, clean
):
    with running_gunicorn(tmp_path) as web:
        page.goto(f"{web.url}/?utm_source=newsletter&utm_campaign=launch")
        assert page.evaluate("[document.documentElement.lang, document.dir]") == ["fa", "rtl"]
        sign_up_by_keyboard(page, PERSIAN_PHONE)
        shows(page, "accepted")
        assert "ثبت" in page.locator("#result").text_content()
        stored("09123456789")
        RESULTS.mkdir(exist_ok=True)
        page.set_viewport_size({"width": 900, "height": 640})
        page.screenshot(path=RESULTS / "page.png")
        row = Registration.get(Registration.phone == "09123456789")
        assert row.referrer == "utm_source=newsletter&utm_campaign=launch"
        assert not [text for text in console if "Content Security Policy" in text], console

        page.keyboard.press("Tab")  # from the number to the button: still there, and enabled
        expect(page.locator("#send")).to_be_focused()
        expect(page.locator("#send")).to_be_enabled()
        page.locator("#lang").click()
        assert page.evaluate("[document.documentElement.lang, document.dir]") == ["en", "ltr"]
        assert (
            page.locator("#result")
            .text_content()
            .startswith("Received: your number will be registered")
        )


def test_the_campaign_comes_from_the_url_or_the_referrer_cut_to_the_limit(
    tmp_path, page, worker, clean
):
    with running_gunicorn(tmp_path) as web:
        page.goto(f"{web.url}/?utm_campaign={'c' * 3000}&utm_source=late&other=x")
        sign_up_by_keyboard(page, "09125550001")
        shows(page, "accepted")
        page.goto(f"{web.url}/", referer=f"{web.url}/promo?utm_source=ad%20one&x=1")
        sign_up_by_keyboard(page, "09125550002")
        shows(page, "accepted")
        stored("09125550001", "09125550002")
    long = Registration.get(Registration.phone == "09125550001").referrer
    assert len(long) == 2048 and long == f"utm_source=late&utm_campaign={'c' * 3000}"[:2048]
    assert Registration.get(Registration.phone == "09125550002").referrer == "utm_source=ad+one"


def test_rabbitmq_stopped_while_submitting_is_retried_until_it_is_back(
    tmp_path, page, broker, clean
):
    with running_gunicorn(tmp_path, env={"PUBLISH_TIMEOUT": "1"}) as web:
        page.goto(web.url)
        control("rabbitmqctl", "-q", "stop_app")
        try:
            sign_up_by_keyboard(page, ARABIC_PHONE)
            retried(page, 2)
            assert state(page) == "retrying"
        finally:
            control("rabbitmqctl", "-q", "start_app")
            control("rabbitmqctl", "-q", "await_startup")
            del broker.connection  # this thread's cached connection died with the app
        shows(page, "accepted", timeout=90)
        with started_worker(broker):
            stored("09127654321")
    assert Registration.select().count() == 1
    assert Registration.get().phone == "09127654321"


class _Site(SimpleHTTPRequestHandler):
    """Another origin's copy of the page, with a CSP that lets it reach the API."""

    csp = ""

    def end_headers(self):
        self.send_header("Content-Security-Policy", self.csp)
        super().end_headers()

    def log_message(self, *args):
        pass


@contextmanager
def page_elsewhere(tmp_path):
    """The page's files on their own server and port (another origin); yields that origin
    and a function that points its copy of the page (and its CSP) at an API."""
    site = tmp_path / "site"
    shutil.copytree(STATIC, site / "static")
    handler = type("Site", (_Site,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(site)))

    def point_at(api: str) -> None:
        html = (STATIC / "index.html").read_text()
        (site / "index.html").write_text(html.replace('data-api=""', f'data-api="{api}"'))
        handler.csp = f"default-src 'self'; connect-src 'self' {api}"

    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", point_at
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture
def elsewhere(tmp_path):
    with page_elsewhere(tmp_path) as site:
        yield site


def test_a_page_on_an_allowed_origin_signs_up(tmp_path, page, worker, clean, elsewhere):
    site, point_at = elsewhere
    with running_gunicorn(tmp_path, env={"CORS_ORIGINS": site}) as api:
        point_at(api.url)
        page.goto(site)
        sign_up_by_keyboard(page, PERSIAN_PHONE)
        shows(page, "accepted")
        stored("09123456789")
    assert Registration.select().count() == 1


def test_a_page_on_another_origin_is_refused_by_the_browser(tmp_path, page, clean, elsewhere):
    site, point_at = elsewhere
    with running_gunicorn(tmp_path, env={"CORS_ORIGINS": "http://127.0.0.1:1"}) as api:
        point_at(api.url)
        page.goto(site)
        # The refusal's console message may come before or after the page counts the retry.
        with page.expect_console_message(lambda message: "CORS policy" in message.text):
            sign_up_by_keyboard(page, PERSIAN_PHONE)
            retried(page, 1)
        assert state(page) == "retrying"
    assert Registration.select().count() == 0
