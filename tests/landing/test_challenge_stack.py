"""The sign-up challenge against the real gunicorn: a flood from many addresses in `auto`
mode engages it at once, forged, expired and replayed solutions are refused over HTTP, and
the page in headless Chromium solves one and signs up without anyone seeing a puzzle.

Addresses are varied with X-Forwarded-For, which gunicorn's peer (loopback, a trusted proxy
by default) may set: as nginx does for each visitor.
"""

import base64
import json
import time
import uuid

import pytest
from altcha.v1 import solve_challenge
from playwright.sync_api import expect

from landing.admission.challenge import solution
from landing.shared.db import Registration
from tests.landing.test_page_browser import shows, sign_up_by_keyboard, stored
from tests.support.processes import http, running_gunicorn

UNLIMITED = "1000000/minute"
# Small work: the browser's cost is measured by bench/challenge.py, not here.
AUTO = {
    "CHALLENGE_MODE": "auto",
    "CHALLENGE_MAX_NUMBER": "5000",
    "RATE_LIMIT": UNLIMITED,
    "PHONE_RATE_LIMIT": UNLIMITED,
}
# The overall rate the flood exceeds, and how soon it must engage: at the next sign-up.
EVERYONE_RATE = 30


def sign_up(web, client: str, altcha: str | None = None, request_id: str | None = None):
    body = {"phone": "09121112233", "request_id": request_id or str(uuid.uuid4())}
    if altcha is not None:
        body["altcha"] = altcha
    status, _, text = http(f"{web.url}/api/register/", body, {"X-Forwarded-For": client})
    return status, json.loads(text)


def solved(web, client: str = "192.0.2.10") -> str:
    status, headers, text = http(f"{web.url}/api/challenge", headers={"X-Forwarded-For": client})
    assert status == 200 and headers["Cache-Control"] == "no-store"
    challenge = json.loads(text)
    found = solve_challenge(challenge["challenge"], challenge["salt"], "SHA-256", 5000)
    assert found is not None
    return solution(challenge, found.number)


def sample(web, line_start: str) -> float:
    _, _, text = http(f"{web.url}/metrics")
    found = [line for line in text.splitlines() if line.startswith(line_start)]
    return float(found[0].rsplit(" ", 1)[1]) if found else 0.0


def test_a_flood_from_many_networks_engages_the_challenge_for_everyone_at_once(
    tmp_path, broker, clean
):
    env = {**AUTO, "CHALLENGE_EVERYONE_RATE": f"{EVERYONE_RATE}/minute"}
    with running_gunicorn(tmp_path, env=env) as web:
        started = time.monotonic()
        answers = [sign_up(web, f"10.{i}.{i % 7}.9")[0] for i in range(EVERYONE_RATE + 10)]
        elapsed = time.monotonic() - started
        # Every address in a network of its own, a few requests each: no per-address or
        # per-network limit sees it. The overall rate does, at the very next sign-up.
        assert answers == [202] * EVERYONE_RATE + [403] * 10, answers
        assert elapsed < 30, elapsed
        status, body = sign_up(web, "172.20.0.1")
        assert (status, body["error"]) == (403, "challenge_required")
        # A visitor who solves one gets through, as the page does.
        assert sign_up(web, "172.20.0.2", solved(web))[0] == 202
        assert sample(web, 'landing_challenge_engaged_total{scope="everyone"}') == 1
        assert sample(web, "landing_challenge_required_for_everyone") == 1
        assert sample(web, 'landing_challenge_verdicts_total{verdict="missing"}') == 11
        assert sample(web, 'landing_challenge_verdicts_total{verdict="solved"}') == 1
        assert "challenge required for every sign-up" in web.errors.read_text()
    broker.flush_all()


def test_one_network_past_its_rate_must_solve_while_others_need_not(tmp_path, broker, clean):
    env = {**AUTO, "CHALLENGE_NETWORK_RATE": "5/minute", "CHALLENGE_EVERYONE_RATE": UNLIMITED}
    with running_gunicorn(tmp_path, env=env) as web:
        # Five addresses of one /24, then a sixth: that network must now solve.
        answers = [sign_up(web, f"203.0.113.{i}")[0] for i in range(1, 7)]
        assert answers == [202] * 5 + [403]
        assert sign_up(web, "203.0.113.200")[0] == 403
        assert sign_up(web, "198.51.100.1")[0] == 202  # another network
        assert sign_up(web, "203.0.113.201", solved(web))[0] == 202
        assert sample(web, 'landing_challenge_engaged_total{scope="network"}') == 1
        log = web.errors.read_text()
        assert "challenge required for client network 203.0.113.0/24" in log
        assert "203.0.113.6" not in log  # the network, never an address
    broker.flush_all()


def test_forged_expired_and_replayed_solutions_are_refused(tmp_path, broker, clean):
    env = {**AUTO, "CHALLENGE_MODE": "always", "CHALLENGE_EXPIRES": "2"}
    with running_gunicorn(tmp_path, env=env) as web:
        payload = solved(web)
        good = json.loads(base64.b64decode(payload))
        forged = base64.b64encode(json.dumps({**good, "signature": "f" * 64}).encode()).decode()
        wrong = base64.b64encode(json.dumps({**good, "number": good["number"] + 1}).encode())
        for attempt in (forged, wrong.decode(), "bm9wZQ=="):
            status, body = sign_up(web, "192.0.2.20", attempt)
            assert (status, body["error"]) == (403, "challenge_invalid"), body
        first = str(uuid.uuid4())
        assert sign_up(web, "192.0.2.21", payload, first)[0] == 202
        assert sign_up(web, "192.0.2.21", payload, first)[0] == 202  # its own retry
        status, body = sign_up(web, "192.0.2.22", payload)  # another sign-up: a replay
        assert (status, body["error"]) == (403, "challenge_invalid")
        assert "used already" in body["message"]
        late = solved(web)
        time.sleep(3.1)  # past CHALLENGE_EXPIRES, in whole seconds
        status, body = sign_up(web, "192.0.2.23", late)
        assert (status, body["error"]) == (403, "challenge_invalid")
        assert "expired" in body["message"]
        for verdict, times in (("invalid", 3), ("replayed", 1), ("expired", 1), ("solved", 2)):
            line = f'landing_challenge_verdicts_total{{verdict="{verdict}"}}'
            assert sample(web, line) == times, verdict
    broker.flush_all()


def test_the_page_solves_a_required_challenge_unseen_and_signs_up(
    tmp_path, page, console, worker, clean
):
    with running_gunicorn(tmp_path, env={**AUTO, "CHALLENGE_MODE": "always"}) as web:
        page.goto(web.url)
        sign_up_by_keyboard(page, "09125550077")
        shows(page, "accepted")
        stored("09125550077")
        result = page.locator("#result")
        assert result.get_attribute("data-solves") == "1"
        assert not result.get_attribute("data-attempts")  # solved, not retried
        expect(page.locator("#phone")).to_be_focused()  # the keyboard is where it was
        assert Registration.get(Registration.phone == "09125550077")
        assert sample(web, 'landing_challenge_verdicts_total{verdict="solved"}') == 1
        assert sample(web, 'landing_challenge_verdicts_total{verdict="missing"}') == 1
        assert not [text for text in console if "Content Security Policy" in text], console


@pytest.mark.parametrize("mode", ["off", "auto"])
def test_the_page_signs_up_without_solving_when_none_is_required(
    tmp_path, page, worker, clean, mode
):
    with running_gunicorn(tmp_path, env={**AUTO, "CHALLENGE_MODE": mode}) as web:
        page.goto(web.url)
        sign_up_by_keyboard(page, "09125550078")
        shows(page, "accepted")
        assert page.locator("#result").get_attribute("data-solves") is None
