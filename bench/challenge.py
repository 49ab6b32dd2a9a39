"""The sign-up challenge's cost: a browser's time to solve one, the server's CPU to check one.

    python -m bench.challenge [--max-number N] [--challenges 30] [--verifications 2000]

The browser: Debian's headless Chromium (Playwright) loads landing/static from a local
server and solves --challenges fresh challenges with solver.js, in as many Web Workers as
the page starts (page.js: one per core, at most four); each solve is timed from the
challenge in hand to the number found, as the page waits for it. The server: the CPU time
(process time, this process) of Challenges.issue and of Challenges.verify on solved
payloads, the claim in Redis (--redis-url, default the tests' db 15) included. Medians are
printed with the spread, and the CPU of `auto` mode's count of one sign-up (one Redis
script call); docs/challenge.md keeps the figures.
"""

import argparse
import functools
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis
from altcha import solve_challenge_v1

from landing.admission.challenge import Challenges, solution
from landing.admission.pressure import Pressure
from landing.shared.settings import Settings

STATIC = Path(__file__).resolve().parents[1] / "landing" / "static"
CHROMIUM = "/usr/bin/chromium"
PAGE_WORKERS = 4  # page.js starts min(navigator.hardwareConcurrency, 4) workers

# In the page: solve each challenge with `parts` workers on solver.js, as page.js does, and
# return each one's milliseconds.
SOLVE_ALL = """
async ([challenges, most]) => {
  const parts = Math.max(1, Math.min(navigator.hardwareConcurrency || 1, most));
  const times = [];
  for (const challenge of challenges) {
    const started = performance.now();
    const workers = Array.from({ length: parts }, () => new Worker("/static/solver.js"));
    const number = await new Promise((done) => {
      let left = parts;
      workers.forEach((worker, part) => {
        worker.onmessage = (event) => {
          if (event.data.number !== null) done(event.data.number);
          else if (--left === 0) done(null);
        };
        worker.postMessage({ ...challenge, part, parts });
      });
    });
    times.push(performance.now() - started);
    workers.forEach((worker) => worker.terminate());
    if (number === null) throw new Error("a challenge went unsolved");
  }
  return { times, parts };
}
"""


def _summary(values: list[float], unit: str) -> str:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (
        f"median {statistics.median(ordered):.3f} {unit}, p90 {p90:.3f}, "
        f"min {ordered[0]:.3f}, max {ordered[-1]:.3f} (n={len(ordered)})"
    )


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # the figures are the output, not the requests
        pass


def browser_solve_ms(challenges: list[dict]) -> tuple[list[float], int]:
    """Each challenge's solve time in Chromium, ms, and how many workers shared each."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(_Quiet, directory=str(STATIC.parent))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_address[1]}/static/index.html")
            result = page.evaluate(SOLVE_ALL, [challenges, PAGE_WORKERS])
            browser.close()
    finally:
        server.shutdown()
    return result["times"], result["parts"]


def cpu_ms(action: Callable[[], object], times: int) -> list[float]:
    """The process time of each of `times` calls of action, ms."""
    spent = []
    for _ in range(times):
        started = time.process_time()
        action()
        spent.append((time.process_time() - started) * 1000)
    return spent


def main() -> None:
    defaults = Settings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-number", type=int, default=defaults.challenge_max_number)
    parser.add_argument("--challenges", type=int, default=30)
    parser.add_argument("--verifications", type=int, default=2000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()

    client = redis.Redis.from_url(args.redis_url)
    challenges = Challenges("bench-challenge-key", args.max_number, 300, client)
    print(f"max number {args.max_number}: {args.max_number / 2:.0f} hashes on average")

    times, parts = browser_solve_ms([challenges.issue() for _ in range(args.challenges)])
    print(f"Chromium, {parts} worker(s): solve {_summary(times, 'ms')}")

    issued = [challenges.issue() for _ in range(args.verifications)]
    payloads = []
    for challenge in issued:
        found = solve_challenge_v1(
            challenge["challenge"], challenge["salt"], "SHA-256", challenge["maxnumber"]
        )
        assert found is not None
        payloads.append(solution(challenge, found.number))
    print(f"server: issue CPU {_summary(cpu_ms(challenges.issue, len(issued)), 'ms')}")
    remaining = iter(payloads)
    verified = cpu_ms(lambda: challenges.verify(next(remaining), str(uuid.uuid4())), len(issued))
    print(f"server: verify CPU (Redis claim included) {_summary(verified, 'ms')}")
    # auto's count of each sign-up (one script call), under rates it never reaches.
    pressure = Pressure("auto", "1000000/minute", "1000000/minute", 60, client)
    networks = iter(f"198.18.{i % 256}.0/24" for i in range(len(issued)))
    counted = cpu_ms(lambda: pressure.required(next(networks)), len(issued))
    print(f"server: auto mode's count per sign-up CPU {_summary(counted, 'ms')}")


if __name__ == "__main__":
    main()
