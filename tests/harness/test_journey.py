"""The journey benchmark's pure parts: page.js's schedule and backoff, reading answers, a
visitor against a scripted server in this process, and the split of the web's CPU."""

import asyncio
import json
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from bench import journey_report
from bench.config import parse_params
from bench.journey import accepted
from bench.targets import journey_targets
from harness import journey, keepalive

pytestmark = pytest.mark.fast


def test_poll_schedule_is_page_js():
    delays = journey.poll_delays()
    assert len(delays) == 60
    assert delays[:7] == [500, 750, 1125, 1688, 2531, 3797, 5000]
    assert set(delays[6:]) == {5000}
    # The page gives up after about 4.7 minutes of polling.
    assert 280_000 < sum(delays) < 282_000


def test_backoff_without_retry_after_doubles_to_thirty_seconds():
    assert journey.backoff_ms(0, None, 0.0, 0.0) == 500
    assert journey.backoff_ms(0, None, 0.0, 0.999999) == pytest.approx(1000, abs=0.01)
    assert journey.backoff_ms(3, None, 0.0, 0.0) == 4000
    assert journey.backoff_ms(10, None, 0.0, 1.0) == 30_000


def test_backoff_honours_retry_after_in_seconds_and_as_a_date():
    # Seconds: at least that long, and never under half the exponential wait.
    assert journey.backoff_ms(0, "2", 0.0, 0.0) == 2000
    assert journey.backoff_ms(5, "1", 0.0, 1.0) == 15_000
    now = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
    later = format_datetime(datetime(2026, 1, 1, 0, 0, 3, tzinfo=UTC), usegmt=True)
    assert journey.backoff_ms(0, later, now, 0.0) == pytest.approx(3000)
    # A date already past, or nonsense: the exponential wait.
    assert journey.backoff_ms(1, later, now + 10, 0.0) == 1000
    assert journey.backoff_ms(1, "soon", now, 0.0) == 1000


def test_parse_head_reads_status_and_lower_cased_headers():
    head = b"HTTP/1.1 202 ACCEPTED\r\nLocation: /api/register/abc\r\nContent-Length: 12"
    assert keepalive.parse_head(head) == (
        202,
        {"location": "/api/register/abc", "content-length": "12"},
    )
    with pytest.raises(ValueError):
        keepalive.parse_head(b"garbage")


def test_status_of_reads_what_page_js_reads():
    def answer(status, body):
        return keepalive.Answer(status, {}, body)

    assert journey.status_of(answer(200, b'{"status": "registered"}')) == "registered"
    assert journey.status_of(answer(404, b'{"status": "registered"}')) == ""
    assert journey.status_of(answer(200, b"not json")) == ""
    assert journey.status_of(answer(200, b"[1]")) == ""


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert journey.percentile(values, 0.5) == 50
    assert journey.percentile(values, 0.99) == 99
    assert journey.percentile([7.0], 0.99) == 7
    assert journey.percentile([], 0.5) is None


class Scripted:
    """An HTTP server in this process: POST answers 503 first, then 202 with a Location;
    the status answers `queued` twice, then `registered`. It closes every other connection
    after answering without saying so, as a server ending a keep-alive connection does."""

    def __init__(self, accepted=b'{"request_id": "the-id", "verify_by": "sms"}'):
        self.accepted = accepted
        self.posts = self.polls = self.answered = 0
        self.bodies = []
        self.origins = []

    async def handle(self, reader, writer):
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                break
            line, *fields = head[:-4].decode().split("\r\n")
            headers = dict(field.lower().split(": ", 1) for field in fields)
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            writer.write(self.answer(line, headers, body))
            await writer.drain()
            self.answered += 1
            if self.answered % 2 == 0:
                break
        writer.close()

    def answer(self, line, headers, body):
        self.origins.append(headers.get("x-forwarded-for"))
        if line.startswith("POST"):
            self.posts += 1
            self.bodies.append(json.loads(body))
            if self.posts == 1:
                return _response(503, b'{"error": "unavailable"}', "Retry-After: 0\r\n")
            return _response(202, self.accepted, "Location: /api/register/the-id\r\n")
        self.polls += 1
        assert line == "GET /api/register/the-id HTTP/1.1"
        status = "registered" if self.polls == 3 else "queued"
        return _response(200, json.dumps({"status": status}).encode())


def _response(status, body, extra=""):
    head = f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    return head.encode() + body


def _journey_once(server, waits):
    async def sleep(seconds):
        waits.append(seconds)

    async def once():
        listening = await asyncio.start_server(server.handle, "127.0.0.1", 0)
        port = listening.sockets[0].getsockname()[1]
        pool = keepalive.Pool(f"http://127.0.0.1:{port}", 4)
        try:
            return await journey.visit(pool, "09123456789", sleep=sleep, origin="10.1.2.3")
        finally:
            pool.close()
            listening.close()

    return asyncio.run(once())


def test_a_visitor_retries_its_post_then_polls_until_registered():
    """With a code step (verify_by), as page.js: polls until the code is on its way."""
    server, waits = Scripted(), []
    seen = _journey_once(server, waits)
    assert seen.outcome == "registered"
    assert (seen.posts, seen.polls, seen.poll_errors) == (2, 3, 0)
    assert seen.to_registered_ms is not None
    # The same sign-up both times (its request_id), as page.js sends it.
    assert server.bodies[0] == server.bodies[1]
    assert server.bodies[0]["phone"] == "09123456789"
    # Every request says whose it is, as nginx would: per-address limits are per visitor.
    assert server.origins == ["10.1.2.3"] * 5
    # The retry waited half the exponential wait (Retry-After: 0, attempt 0: 0.5 to 1 s
    # with jitter), then page.js's polls.
    assert 0.25 <= waits[0] < 0.5
    assert waits[1:] == [0.5, 0.75, 1.125]


def test_without_a_code_step_the_202_ends_the_journey_and_nothing_is_polled():
    server, waits = Scripted(accepted=b'{"request_id": "the-id"}'), []
    seen = _journey_once(server, waits)
    assert seen.outcome == "accepted"
    assert (seen.posts, seen.polls, server.polls) == (2, 0, 0)
    assert len(waits) == 1  # the 503's backoff, and no poll's wait


def test_each_visitor_has_an_address_of_its_own():
    assert journey.address(0) == "10.0.0.0"
    assert journey.address(65_536 + 256 + 7) == "10.1.1.7"
    assert len({journey.address(n) for n in range(100_000)}) == 100_000


def test_in_flight_counts_the_visitors_on_their_journey_at_once():
    flight = journey.InFlight()

    async def three():
        gate = asyncio.Event()

        async def waiting():
            await gate.wait()
            return journey.Visit("registered")

        tasks = [asyncio.create_task(flight.follow(waiting())) for _ in range(3)]
        await asyncio.sleep(0)
        during = flight.now
        gate.set()
        await asyncio.gather(*tasks)
        return during

    assert asyncio.run(three()) == 3
    assert (flight.now, flight.peak) == (0, 3)


def test_a_run_sums_its_visitors():
    visits = [
        journey.Visit("registered", posts=1, polls=2, to_registered_ms=700.0),
        journey.Visit("registered", posts=2, polls=1, to_registered_ms=900.0),
        journey.Visit("pending", posts=1, polls=60, poll_errors=3),
    ]
    figures = journey.summarise(visits, 2.0, 0.5).figures()
    assert figures["outcomes"] == {"pending": 1, "registered": 2}
    assert figures["served_per_s"] == 1.0
    assert (figures["posts"], figures["post_retries"], figures["polls"]) == (4, 1, 63)
    assert figures["polls_per_visitor"] == 21.0
    assert figures["to_registered_p50_ms"] == 700.0
    assert figures["to_registered_p99_ms"] == 900.0


def test_accepted_counts_every_visitor_whose_post_got_its_202():
    load = {"outcomes": {"registered": 5, "pending": 2, "accepted": 1, "429": 3, "unavailable": 1}}
    assert accepted(load) == 8


def test_polls_cost_what_the_journey_costs_beyond_its_signups():
    price = journey_report.signup_ms(web_cpu_s=2.0, accepted=4000)  # 0.5 ms per sign-up
    assert price == 0.5
    split = journey_report.poll_split(web_cpu_s=5.0, accepted=4000, polls=6000, per_signup_ms=price)
    assert split == {"signups_cpu_s": 2.0, "polls_cpu_s": 3.0, "share": 0.6, "ms_per_poll": 0.5}


def test_a_journey_cheaper_than_its_signups_is_noise_not_a_negative_cost():
    split = journey_report.poll_split(1.9, 4000, 10, 0.5)
    assert (split["polls_cpu_s"], split["share"]) == (0.0, 0.0)


def test_an_unmeasured_run_has_no_split():
    assert journey_report.signup_ms(None, 10) is None
    assert journey_report.signup_ms(1.0, 0) is None
    assert journey_report.poll_split(None, 10, 10, 0.5)["share"] is None
    assert journey_report.poll_split(1.0, 10, 10, None)["share"] is None


def _run(share, all_stored=True):
    load = journey.summarise([journey.Visit("registered", 1, 1, 0, 600.0)], 1.0, 0.1)
    return {"load": load.figures(), "web_cpu_s": 1.0, "split": {"share": share},
            "queued_ahead": 0, "all_stored": all_stored}  # fmt: skip


def test_the_target_passes_at_ten_percent_and_fails_above_or_unmeasured():
    section = {"keeping_up": [_run(0.02), _run(0.10), _run(0.5)], "backlog": [_run(0.11)]}
    keeping_up, stored, backlog, _ = journey_targets(section)
    assert "keeping up" in keeping_up.target and "backlog" in backlog.target
    assert (keeping_up.measured, keeping_up.result) == (0.10, "PASS")
    assert (backlog.measured, backlog.result) == (0.11, "FAIL")
    assert (stored.measured, stored.result) == (0, "PASS")
    missing = journey_targets({"keeping_up": [_run(None)], "backlog": []})
    assert [t.result for t in missing if "polls" in t.target] == ["FAIL", "FAIL"]
    # A case left out (BENCH_BACKLOG_SECONDS=0) is not judged.
    assert len(journey_targets({"keeping_up": [_run(0.05)]})) == 2


def test_a_run_short_of_its_accepted_sign_ups_fails_the_promise():
    section = {"keeping_up": [_run(0.0), _run(0.0, all_stored=False)]}
    _, stored = journey_targets(section)
    assert "every accepted sign-up stored" in stored.target
    assert (stored.measured, stored.result) == (1, "FAIL")


def test_the_page_shows_every_run_and_the_targets():
    setting = {"rate": 100.0, "seconds": 15.0, "connections": 512, "backlog_seconds": 20.0}
    section = {"setting": setting, "post_only": [_run(None)], "keeping_up": [_run(0.25)]}
    info = {"date_utc": "now", "command": "python -m bench.journey", "machine": "here"}
    page = journey_report.page(info, section)
    assert "| POST only | 1 | 0 |" in page
    assert "| keeping up | 1 | 0 |" in page and "25.0%" in page
    assert "polls cost <= 10% of the web's CPU | 0.25 | **FAIL** |" in page


def test_bench_scenarios_picks_phases_and_refuses_unknown_ones():
    assert parse_params([]).scenarios == ("matrix", "e2e", "journey")
    assert parse_params(["--scenarios", "journey"]).scenarios == ("journey",)
    with pytest.raises(SystemExit):
        parse_params(["--scenarios", "jorney"])


def test_a_journey_that_polled_nothing_spent_nothing_on_polls():
    """The web's CPU beyond the POST-only price is then the runs' noise, not polls'."""
    split = journey_report.poll_split(2.4, 4000, 0, 0.5)
    assert split == {"signups_cpu_s": 2.4, "polls_cpu_s": 0.0, "share": 0.0, "ms_per_poll": None}
