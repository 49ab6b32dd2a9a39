"""The landing page as files and as the app serves it, and CORS on the registration API."""

import re

import pytest

from landing.cors import origins
from landing.page import PAGE_CSP
from tests.support.services import ROOT

STATIC = ROOT / "landing" / "static"
PAGE_FILES = ("index.html", "page.css", "page.js", "solver.js")
ORIGIN = "http://127.0.0.1:18080"


@pytest.fixture
def cors_client(clean, make_app):
    return make_app(cors_origins=f"{ORIGIN}, http://example.test/").test_client()


def test_the_page_is_small_and_asks_nothing_of_another_host():
    sizes = {name: (STATIC / name).stat().st_size for name in PAGE_FILES}
    assert sum(sizes.values()) < 30_000, sizes
    for name in PAGE_FILES:
        text = (STATIC / name).read_text()
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]", text, re.I), name
        assert "@import" not in text and "@font-face" not in text, name


def test_the_page_has_nothing_inline_and_is_persian_first():
    html = (STATIC / "index.html").read_text()
    assert '<html lang="fa" dir="rtl"' in html
    assert " style=" not in html and "<style" not in html
    assert re.findall(r"<script[^>]*>", html) == ['<script src="/static/page.js" defer>']
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers need unsafe-inline"
    assert '<label for="phone"' in html and 'aria-live="polite"' in html


def test_the_page_is_served_at_root_with_a_strict_csp(app):
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Content-Security-Policy"] == PAGE_CSP
    assert "default-src 'self'" in PAGE_CSP and "unsafe" not in PAGE_CSP
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert 'lang="fa"' in page.get_data(as_text=True)
    for name, mimetype in (("page.js", "text/javascript"), ("page.css", "text/css")):
        asset = client.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.mimetype == mimetype, name
        assert asset.headers["Content-Security-Policy"] == PAGE_CSP
        asset.close()


def test_origins_are_read_from_a_comma_separated_setting():
    assert origins("") == [] and origins(" , ") == []
    assert origins("https://a.example, https://b.example/") == [
        "https://a.example",
        "https://b.example",
    ]


def test_without_origins_no_answer_carries_a_cors_header(client):
    answers = [
        client.options(
            "/api/register/",
            headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
        ),
        client.post("/api/register/", json={"phone": "bad"}, headers={"Origin": ORIGIN}),
        client.get("/", headers={"Origin": ORIGIN}),
    ]
    for answer in answers:
        assert not [name for name, _ in answer.headers.items() if name.startswith("Access-Control")]


def test_a_configured_origin_gets_its_preflight_answered(cors_client):
    preflight = cors_client.options(
        "/api/register/",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert set(preflight.headers["Access-Control-Allow-Methods"].split(", ")) == {
        "GET",
        "OPTIONS",
        "POST",
    }
    assert preflight.headers["Access-Control-Allow-Headers"].lower() == "content-type"
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    assert "Origin" in preflight.headers["Vary"]


def test_one_configured_origin_still_varies_on_origin(clean, make_app):
    client = make_app(cors_origins=ORIGIN).test_client()
    for headers in ({"Origin": ORIGIN}, {}):
        answer = client.post("/api/register/", json={"phone": "x"}, headers=headers)
        assert "Origin" in answer.headers["Vary"]


def test_a_configured_origin_sees_location_and_retry_after(cors_client):
    answer = cors_client.post(
        "/api/register/", json={"phone": "09121234567"}, headers={"Origin": ORIGIN}
    )
    assert answer.status_code == 202
    assert answer.headers["Access-Control-Allow-Origin"] == ORIGIN
    exposed = {name.strip() for name in answer.headers["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"Location", "Retry-After"}
    assert "Access-Control-Allow-Credentials" not in answer.headers
    status = cors_client.get(answer.headers["Location"], headers={"Origin": ORIGIN})
    assert status.headers["Access-Control-Allow-Origin"] == ORIGIN
    error = cors_client.post("/api/register/", json={"phone": "x"}, headers={"Origin": ORIGIN})
    assert error.status_code == 400 and error.headers["Access-Control-Allow-Origin"] == ORIGIN


def test_another_origin_and_other_routes_get_no_cors_header(cors_client):
    for path, origin in (
        ("/api/register/", "http://127.0.0.1:18081"),
        ("/api/register/", "http://127.0.0.1:18080.evil.test"),
        ("/health", ORIGIN),
        ("/", ORIGIN),
    ):
        answer = cors_client.options(
            path, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}
        )
        assert "Access-Control-Allow-Origin" not in answer.headers, (path, origin)
