"""The visitor's journey as landing/static/page.js performs it, for thousands of visitors.

Each visitor is one coroutine that does what the page does after a sign-up: POST
/api/register/ (retrying 429/502/503/504 and network errors with the page's backoff, the
same request_id each time); on its 202, if the answer says a code step follows
(verify_by, VERIFICATION=sms), GET the Location with the page's schedule (sleep
min(500 * 1.5^attempt, 5000) ms before each of at most 60 polls) until the answer says
`registered` or `failed`. Without one the 202 is the end: the page polls nothing.
Visitors arrive at a fixed rate (open loop: a slow answer does not slow arrivals), and
share a pool of keep-alive connections, as they would share nginx's upstream connections.

Why not wrk: its Lua hooks (request, response, delay) are not told which connection they
serve, so a visitor's next step and its timing would have to be rebuilt as one shared
schedule per thread, and its latency histogram mixes POSTs with polls. Here a visitor reads
like page.js and its time from POST to `registered` is measured directly. The cost is this
client's own CPU (reported as client_cpu_s): it shares the machine's cores with the stack,
which lowers what the stack can serve but not what each request costs it.

The challenge (403 + proof of work) is left out: the journey is run with it off.
"""

import asyncio
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from harness.keepalive import Answer, Pool

# page.js's numbers (send(), backoff(), poll()).
RETRIED = frozenset({429, 502, 503, 504})
MAX_ATTEMPTS = 20
LONGEST_WAIT_MS = 60_000
POLLS = 60
FIRST_POLL_MS = 500
POLL_GROWTH = 1.5
LONGEST_POLL_MS = 5_000


def poll_delays() -> list[int]:
    """The wait in ms before each of page.js's polls: min(500 * 1.5^attempt, 5000)."""
    return [min(round(FIRST_POLL_MS * POLL_GROWTH**n), LONGEST_POLL_MS) for n in range(POLLS)]


def backoff_ms(attempt: int, retry_after: str | None, now_s: float, jitter: float) -> float:
    """page.js's backoff(): Retry-After (seconds or an HTTP date) if the answer has one,
    else min(1000 * 2^attempt, 30000) scaled by 0.5 + jitter / 2 (jitter in [0, 1))."""
    exponential = min(1000 * 2**attempt, 30_000) * (0.5 + jitter / 2)
    if retry_after:
        try:
            seconds = float(retry_after)
        except ValueError:
            seconds = -1.0
        if seconds >= 0:
            return max(seconds * 1000, exponential / 2)
        from email.utils import parsedate_to_datetime

        try:
            date_ms = (parsedate_to_datetime(retry_after).timestamp() - now_s) * 1000
        except (TypeError, ValueError):
            date_ms = 0.0
        return date_ms if date_ms > 0 else exponential
    return exponential


def _json(body: bytes) -> dict:
    """A JSON object body; {} for anything else (page.js's failed response.json())."""
    try:
        found = json.loads(body)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def status_of(answer: Answer) -> str:
    """The status a poll's answer reports, as page.js reads it ('' if none)."""
    if not 200 <= answer.status < 300:
        return ""
    return _json(answer.body).get("status", "")


def percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile (share in (0, 1]) of values; None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * share // 1))
    return ordered[int(rank) - 1]


@dataclass
class Visit:
    """What one visitor saw."""

    # accepted (a 202, nothing to poll for), registered, failed, pending (gave up polling),
    # unavailable, or the status code the POST ended on
    outcome: str
    posts: int = 0
    polls: int = 0
    poll_errors: int = 0  # polls answered with no status (an error, a 404) or not at all
    to_registered_ms: float | None = None  # from its first POST to the answer saying so


def address(n: int) -> str:
    """Visitor n's own address (10.0.0.0/8: distinct for 16 million visitors)."""
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


async def visit(
    pool: Pool, phone: str, polls: bool = True, sleep=asyncio.sleep, origin: str = "10.0.0.1"
) -> Visit:
    """One visitor's journey (polls=False: the POST and its retries only).

    origin: the visitor's address, sent as X-Forwarded-For the way nginx would (the app
    trusts it from 127.0.0.0/8), so each visitor has its own per-address limits, as in
    production: all from one address, the polls would meet STATUS_RATE_LIMIT at once."""
    body = json.dumps({"phone": phone, "request_id": str(uuid.uuid4())}).encode()
    forwarded = f"X-Forwarded-For: {origin}\r\n"
    seen = Visit("unavailable")
    started = time.monotonic()
    answer: Answer | None = None
    for attempt in range(MAX_ATTEMPTS):
        seen.posts += 1
        try:
            answer = await pool.request("POST", "/api/register/", body, forwarded)
        except OSError:
            answer = None
        if answer is not None and answer.status not in RETRIED:
            break
        retry_after = answer.headers.get("retry-after") if answer is not None else None
        wait = backoff_ms(attempt, retry_after, time.time(), random.random())
        if answer is not None and wait > LONGEST_WAIT_MS:
            break
        await sleep(wait / 1000)
    else:
        return seen
    if answer.status != 202:  # every way out of the loop but `else` had an answer
        seen.outcome = str(answer.status)
        return seen
    accepted = _json(answer.body)
    # page.js's accepted(): without a code step (verify_by) the 202 is the last word.
    if not polls or accepted.get("verify_by") != "sms":
        seen.outcome = "accepted"
        return seen
    where = answer.headers.get("location") or "/api/register/" + accepted["request_id"]
    path = urlsplit(where).path
    seen.outcome = "pending"
    for wait in poll_delays():
        await sleep(wait / 1000)
        seen.polls += 1
        try:
            status = status_of(await pool.request("GET", path, extra=forwarded))
        except OSError:
            status = ""
        if status in ("registered", "failed"):
            seen.outcome = status
            if status == "registered":
                seen.to_registered_ms = round((time.monotonic() - started) * 1000, 1)
            return seen
        if not status:
            seen.poll_errors += 1
    return seen


class InFlight:
    """How many visitors are on their journey now, and the most there have been."""

    def __init__(self) -> None:
        self.now = self.peak = 0

    async def follow(self, journey: Awaitable[Visit]) -> Visit:
        """journey, counted while it runs."""
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            return await journey
        finally:
            self.now -= 1


@dataclass
class JourneyRun:
    """Every visitor of one run, summed."""

    visitors: int
    seconds: float  # from the first arrival until the last visitor's journey ended
    outcomes: dict[str, int]
    posts: int
    polls: int
    poll_errors: int
    client_cpu_s: float
    to_registered_ms: list[float] = field(repr=False, default_factory=list)
    peak_in_flight: int = 0  # the most visitors on their journey at once

    @property
    def served(self) -> int:
        """Visitors whose journey ended well: their 202 (and, with a code step, `registered`)."""
        return self.outcomes.get("accepted", 0) + self.outcomes.get("registered", 0)

    def figures(self) -> dict:
        """What the report shows of this run."""
        return {
            "visitors": self.visitors,
            "seconds": self.seconds,
            "outcomes": dict(sorted(self.outcomes.items())),
            "served_per_s": round(self.served / self.seconds, 1) if self.seconds else 0.0,
            "posts": self.posts,
            "post_retries": self.posts - self.visitors,
            "polls": self.polls,
            "poll_errors": self.poll_errors,
            "polls_per_visitor": round(self.polls / self.visitors, 2) if self.visitors else 0,
            "to_registered_p50_ms": percentile(self.to_registered_ms, 0.5),
            "to_registered_p99_ms": percentile(self.to_registered_ms, 0.99),
            "peak_visitors_in_flight": self.peak_in_flight,
            "client_cpu_s": self.client_cpu_s,
        }


def summarise(
    visits: list[Visit], seconds: float, client_cpu_s: float, peak_in_flight: int = 0
) -> JourneyRun:
    """One JourneyRun from each visitor's Visit."""
    outcomes: dict[str, int] = {}
    for one in visits:
        outcomes[one.outcome] = outcomes.get(one.outcome, 0) + 1
    return JourneyRun(
        visitors=len(visits), seconds=round(seconds, 3), outcomes=outcomes,
        posts=sum(v.posts for v in visits), polls=sum(v.polls for v in visits),
        poll_errors=sum(v.poll_errors for v in visits), client_cpu_s=round(client_cpu_s, 3),
        to_registered_ms=[v.to_registered_ms for v in visits if v.to_registered_ms is not None],
        peak_in_flight=peak_in_flight,
    )  # fmt: skip


async def _arrive(
    url: str, rate: float, seconds: float, connections: int, phones: Callable[[int], str],
    polls: bool,
) -> tuple[list[Visit], float, int]:  # fmt: skip
    pool = Pool(url, connections)
    flight = InFlight()
    tasks = []
    started = time.monotonic()
    count = int(rate * seconds)
    for n in range(count):
        # Each visitor at its own slot, n / rate after the first: late slots go at once.
        due = started + n / rate
        if (wait := due - time.monotonic()) > 0:
            await asyncio.sleep(wait)
        one = visit(pool, phones(n), polls, origin=address(n))
        tasks.append(asyncio.create_task(flight.follow(one)))
    visits = await asyncio.gather(*tasks)
    elapsed = time.monotonic() - started
    pool.close()
    return visits, elapsed, flight.peak


def run(
    url: str, rate: float, seconds: float, connections: int, phones: Callable[[int], str],
    polls: bool = True,
) -> JourneyRun:  # fmt: skip
    """rate visitors/s for seconds against url, each on its journey; returns once every
    visitor's journey ended (the last may poll for ~4.7 minutes if never registered)."""
    cpu = time.process_time()
    visits, elapsed, peak = asyncio.run(_arrive(url, rate, seconds, connections, phones, polls))
    return summarise(visits, elapsed, time.process_time() - cpu, peak)
