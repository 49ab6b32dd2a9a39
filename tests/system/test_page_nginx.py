"""Our nginx.conf serving the landing page from disk, as compose mounts it, in front of the
real gunicorn: the page's headers, and a sign-up from the page in headless Chromium."""

from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import expect

from harness.door import nginx_command, render_nginx
from landing.page import PAGE_CSP
from landing.shared.db import Registration
from tests.support.door import serving, start
from tests.support.processes import answers, http, listen_port, running_gunicorn
from tests.support.services import ROOT, wait_for

API_CSP = "default-src 'none'; frame-ancestors 'none'"
REQUEST_ID = "5f0c1d3e-8a4b-4c2d-9e7f-0a1b2c3d4e5f"


@contextmanager
def nginx(folder: Path, upstream_port: int, with_page: bool = True):
    """nginx on a free port; the page's folder linked where compose mounts it, if asked."""
    port = listen_port()
    config = render_nginx(folder, upstream_port, f"listen 127.0.0.1:{port};\n")
    if with_page:
        (folder / "page").mkdir()
        (folder / "page" / "static").symlink_to(ROOT / "landing" / "static")
    # pytest's folders are private to root, and nginx's workers would run as nobody.
    command = nginx_command(config, "user root;")
    process = start(command, folder / "nginx.log")
    url = f"http://127.0.0.1:{port}"
    with serving([process], lambda: http(f"{url}/")[0] in (200, 404)):
        yield url


@pytest.fixture
def door(tmp_path, clean):
    with running_gunicorn(tmp_path) as web:
        port = int(web.url.rsplit(":", 1)[1])
        with nginx(tmp_path / "nginx", port) as url:
            assert answers(f"{url}/health")
            yield url


def test_nginx_serves_the_page_with_its_own_csp_and_the_api_keeps_its(door):
    status, headers, body = http(f"{door}/")
    assert status == 200 and 'lang="fa"' in body
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Content-Security-Policy"] == PAGE_CSP
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-cache"
    for name, kind in (("page.js", "text/javascript"), ("page.css", "text/css")):
        status, headers, _ = http(f"{door}/static/{name}")
        assert status == 200 and headers["Content-Type"] == f"{kind}; charset=utf-8", name
        assert headers["Content-Security-Policy"] == PAGE_CSP
    status, headers, _ = http(f"{door}/api/register/{REQUEST_ID}")
    assert headers["Content-Security-Policy"] == API_CSP and "Cache-Control" not in headers
    status, headers, body = http(f"{door}/static/missing.js")
    assert status == 404 and '"not_found"' in body


def test_without_the_page_folder_root_stays_a_json_404(tmp_path):
    with nginx(tmp_path / "nginx", listen_port(), with_page=False) as url:
        status, headers, body = http(f"{url}/")
    assert status == 404 and '"not_found"' in body
    assert headers["Content-Security-Policy"] == PAGE_CSP  # nothing to load anyway


def test_a_sign_up_from_the_page_through_nginx(door, worker, page, console):
    page.goto(f"{door}/?lang=en")
    assert page.evaluate("document.documentElement.dir") == "ltr"
    page.locator("#phone").focus()
    page.keyboard.insert_text("0912 111 2233")
    page.keyboard.press("Enter")
    expect(page.locator("#result")).to_have_attribute("data-state", "accepted", timeout=30_000)
    assert not [text for text in console if "Content Security Policy" in text], console
    assert wait_for(lambda: Registration.get_or_none()).phone == "09121112233"
