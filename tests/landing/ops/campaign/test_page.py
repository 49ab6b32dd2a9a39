"""The campaign page over the dashboard's WSGI app: figures from real sign-ups, its headers,
its forms behind the dashboard's CSRF check, and audit lines without phone numbers."""

import logging
import re
from datetime import UTC, datetime

import pytest
from werkzeug.test import Client

from landing.ops.campaign.figures import Pipeline, pipeline
from landing.ops.dashboard import AUDIT, create_dashboard
from landing.ops.dashboard.csrf import COOKIE, FIELD
from landing.ops.dashboard.management_api import ManagementAPI
from tests.support.config import settings
from tests.support.dashboard import AUTH, ORIGIN, management_api
from tests.support.services import wait_for
from tests.support.signups import attempt

PAGE = "/dashboard/campaign/"
PHONES = ["09121110001", "09121110002", "09351110003"]


@pytest.fixture(scope="session")
def management(broker: object) -> ManagementAPI:
    return management_api()


@pytest.fixture
def page(clean: None, management: ManagementAPI) -> Client:
    return Client(create_dashboard(settings))


def signed_up(workers, referrers: list[str | None]) -> list[dict]:
    sent = [attempt(p, referrer=r) for p, r in zip(PHONES, referrers, strict=False)]
    workers.register_batch(sent)
    return sent


def token(client: Client) -> str:
    client.get(PAGE, headers=AUTH)
    cookie = client.get_cookie(COOKIE, path="/dashboard")
    assert cookie is not None
    return cookie.value


def test_the_page_shows_the_sign_ups_by_time_and_referrer(page, workers) -> None:
    signed_up(
        workers, ["utm_source=ads&utm_campaign=winter", "utm_source=ads&utm_campaign=winter", None]
    )

    response = page.get(PAGE, headers=AUTH)
    html = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    assert re.search(r'id="total">\s*3<', html) and re.search(r'id="last-hour">\s*3<', html)
    counts = [int(n) for n in re.findall(r'data-count="(\d+)"', html)]
    assert sum(counts) == 9  # the minute, the hour and the day plots: 3 each
    assert ">ads</bdi>" in html and ">winter</bdi>" in html
    assert "66.7%" in html and "33.3%" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_a_referrer_filter_and_persian(page, workers) -> None:
    signed_up(workers, ["utm_source=a", "utm_source=b", "utm_source=b"])
    html = page.get(PAGE, query_string={"referrer": "utm_source=b", "lang": "fa"}, headers=AUTH)
    text = html.get_data(as_text=True)
    assert 'dir="rtl"' in text and re.search(r'id="total">\s*۲<', text)


def test_without_credentials_nothing(page) -> None:
    assert page.get(PAGE).status_code == 401


def test_find_masks_reveal_shows_erase_removes_and_audits(page, workers, caplog) -> None:
    sent = signed_up(workers, ["utm_source=a"])
    caplog.set_level(logging.INFO, logger=AUDIT)
    form = {FIELD: token(page), "phone": "+98 912 111 0001"}

    found = page.post(f"{PAGE}find", data=form, headers={**AUTH, **ORIGIN}).get_data(as_text=True)
    assert "0912***0001" in found and PHONES[0] not in found
    request_id = sent[0]["request_id"]
    revealed = page.post(
        f"{PAGE}find",
        data={FIELD: form[FIELD], "request_id": request_id, "reveal": "1"},
        headers={**AUTH, **ORIGIN},
    ).get_data(as_text=True)
    assert PHONES[0] in revealed

    unconfirmed = {FIELD: form[FIELD], "request_id": request_id}
    assert (
        page.post(f"{PAGE}erase", data=unconfirmed, headers={**AUTH, **ORIGIN}).status_code == 400
    )
    erased = page.post(
        f"{PAGE}erase", data={**unconfirmed, "confirm": "yes"}, headers={**AUTH, **ORIGIN}
    ).get_data(as_text=True)
    assert 'id="erased"' in erased and "1 registration(s)" in erased
    assert re.search(r'id="total">\s*0<', erased)

    lines = [r.getMessage() for r in caplog.records if r.name == AUDIT]
    actions = [re.findall(r"action=(\S+)", line) for line in lines]
    assert actions == [["find"], ["reveal"], ["erase"]]
    assert all(PHONES[0] not in line and "0912***" not in line for line in lines)


def test_a_post_without_the_token_is_refused(page) -> None:
    response = page.post(f"{PAGE}find", data={"phone": PHONES[0]}, headers={**AUTH, **ORIGIN})
    assert response.status_code == 403
    assert response.json["error"] == "forbidden"


@pytest.mark.parametrize("referrer", ["\x00", "a\x01b", "\x7f"])
def test_a_referrer_no_sign_up_could_have_is_a_json_400(page, referrer: str) -> None:
    for path in (PAGE, f"{PAGE}live"):
        response = page.get(path, query_string={"referrer": referrer}, headers=AUTH)
        assert response.status_code == 400, path
        assert response.json["error"] == "invalid"


def test_unknown_export_is_a_json_404(page) -> None:
    response = page.get(f"{PAGE}exports/not-a-job", headers=AUTH)
    assert response.status_code == 404
    assert response.json["error"] == "not_found"


def test_the_pipeline_line_shows_the_backlog_and_its_age(page, client, management) -> None:
    """No worker runs: the sign-up waits in registrations, stamped by the web's publisher."""
    assert client.post("/api/register/", json={"phone": PHONES[0]}).status_code == 202

    def backlog() -> Pipeline:
        return pipeline(management, datetime.now(UTC))

    wait_for(lambda: backlog().waiting >= 1 and backlog().oldest_seconds is not None, timeout=20)
    assert 0 <= (backlog().oldest_seconds or 0) < 60
    html = page.get(PAGE, headers=AUTH).get_data(as_text=True)
    assert re.search(r'id="waiting">\s*1<', html) and re.search(r"oldest \d+ s", html)
