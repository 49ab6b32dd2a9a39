"""The campaign page as an operator uses it: headless Chromium (Playwright, the system's
Chromium, nothing downloaded) against the dashboard over real HTTP, a real worker, sign-ups
made through the real app. It writes docs/campaign-en.png and docs/campaign-fa.png
(phone-sized), so the README's screenshots are always of the page as it is."""

import csv
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, ViewportSize, expect, sync_playwright
from werkzeug.serving import make_server

from landing.ops.dashboard import create_dashboard
from tests.support.config import settings
from tests.support.dashboard import management_api
from tests.support.services import ROOT, wait_for

CHROMIUM = "/usr/bin/chromium"
PHONE_SIZE: ViewportSize = {"width": 390, "height": 844}
ADS = "utm_source=ads&utm_campaign=winter"
BLOG = "utm_source=blog"
SIGN_UPS = [("09121230001", ADS), ("09121230002", ADS), ("09351230003", BLOG)]


@pytest.fixture
def served(clean) -> Iterator[str]:
    """The dashboard's WSGI app on a real HTTP server on a free port, for this test."""
    management_api()
    server = make_server("127.0.0.1", 0, create_dashboard(settings), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/dashboard/campaign/"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install chromium (Debian's package)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(
        http_credentials={"username": "admin", "password": "admin"},
        viewport=PHONE_SIZE,
        accept_downloads=True,
    )
    yield context.new_page()
    context.close()


def sign_up(client, phone: str, referrer: str) -> str:
    response = client.post("/api/register/", json={"phone": phone, "referrer": referrer})
    assert response.status_code == 202, response.get_data(as_text=True)
    request_id = response.json["request_id"]
    wait_for(lambda: client.get(f"/api/register/{request_id}").json["status"] == "registered")
    return request_id


def plotted(page: Page, plot: str) -> int:
    """The sign-ups a plot draws: the sum of its bars' counts."""
    return page.eval_on_selector_all(
        f"#{plot} rect.bar", "bars => bars.reduce((n, b) => n + Number(b.dataset.count), 0)"
    )


def test_an_operator_watches_filters_exports_finds_and_erases(served, worker, client, page) -> None:
    for phone, referrer in SIGN_UPS:
        sign_up(client, phone, referrer)

    page.goto(served)
    expect(page.locator("#total")).to_have_text("3")
    assert [plotted(page, p) for p in ("per-minute", "per-hour", "per-day")] == [3, 3, 3]
    expect(page.locator("#referrers tbody tr")).to_have_count(2)
    # RabbitMQ's management API sees a new consumer within its 5 s statistics interval.
    expect(page.locator("#workers")).not_to_have_text("0", timeout=20_000)
    page.screenshot(path=ROOT / "docs" / "campaign-en.png", full_page=True)

    sign_up(client, "09121230004", BLOG)  # the open page updates itself
    expect(page.locator("#total")).to_have_text("4", timeout=15_000)
    assert plotted(page, "per-minute") == 4

    page.select_option("#referrer-filter", BLOG)
    page.click("form.filter button")
    expect(page.locator("#total")).to_have_text("2")
    assert plotted(page, "per-day") == 2

    page.click("#start-export")
    expect(page.locator("#export-status .download")).to_be_visible(timeout=20_000)
    with page.expect_download() as download:
        page.click("#export-status .download")
    with open(download.value.path(), newline="") as exported:
        rows = list(csv.DictReader(exported))
    assert sorted(row["phone"] for row in rows) == ["09121230004", "09351230003"]
    assert {row["referrer"] for row in rows} == {BLOG}

    page.fill("#phone", "۰۹۳۵ ۱۲۳ ۰۰۰۳")  # Persian digits and spaces, as a person types
    page.click("#find button")
    expect(page.locator("#found-phone")).to_have_text("0935***0003")
    page.click("#reveal")
    expect(page.locator("#found-phone")).to_have_text("09351230003")
    page.click("#erase")  # the confirmation is not ticked: the browser keeps the form
    expect(page.locator("#erased")).to_have_count(0)
    page.check("#confirm")
    page.click("#erase")
    expect(page.locator("#erased")).to_contain_text("1 registration(s)")
    expect(page.locator("#total")).to_have_text("1")  # the page still filters by BLOG


def test_the_persian_page_reads_right_to_left_with_persian_digits(
    served, worker, client, page
) -> None:
    for phone, referrer in SIGN_UPS:
        sign_up(client, phone, referrer)
    page.goto(served + "?lang=fa")
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.locator("#total")).to_have_text("۳")
    assert plotted(page, "per-minute") == 3
    expect(page.locator("#workers")).not_to_have_text("۰", timeout=20_000)
    page.screenshot(path=ROOT / "docs" / "campaign-fa.png", full_page=True)
