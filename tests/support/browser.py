"""Headless Chromium for the browser tests, driven by Playwright's sync API.

Playwright drives Debian's Chromium (scripts/system-deps.sh installs it) through
executable_path: `playwright install` would download a browser build of its own, which a
machine that reaches only package registries cannot. One Chromium serves a whole test module
(starting one costs a second or more); each test gets fresh contexts which, like a new
profile, share no cookies, cache or credentials. Not the whole session: while Playwright's
sync API is started, its event loop counts as running in the main thread, so asyncio.run()
there would fail in any test that happened to come after the first browser test.

This module only holds fixtures (tests/conftest.py registers it) so that the tests speak
Playwright itself; pytest-playwright is not used: it parametrizes over browsers and manages
their downloads and artifacts, none of which these tests want.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # Playwright is imported by the fixture that starts it, so a test run
    # without a browser (the fast tier) never pays for loading it.
    from playwright.sync_api import Browser, BrowserContext, Page

CHROMIUM = Path("/usr/bin/chromium")
#: The window the tests' pages are laid out in (and screenshotted at, unless a test resizes).
VIEWPORT = {"width": 1280, "height": 960}


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """Debian's headless Chromium under Playwright, for the test module."""
    if not CHROMIUM.exists():
        pytest.fail("Chromium is missing: scripts/system-deps.sh installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def new_context(chromium: Browser) -> Iterator[Callable[..., BrowserContext]]:
    """Opens contexts (fresh profiles) with Playwright's options; closed after the test."""
    opened: list[BrowserContext] = []

    def open_context(**options) -> BrowserContext:
        context = chromium.new_context(**{"viewport": VIEWPORT, **options})
        opened.append(context)
        return context

    yield open_context
    for context in opened:
        context.close()


@pytest.fixture
def page(new_context) -> Page:
    """A tab in a fresh context, signed in nowhere."""
    return new_context().new_page()


@pytest.fixture
def console(page: Page) -> list[str]:
    """The texts of every message the page's console shows from its first load on: the
    page's own and the browser's (CORS and CSP refusals are the browser's)."""
    texts: list[str] = []
    page.on("console", lambda message: texts.append(message.text))
    return texts
