"""`make soak`: the stack with workers under a fixed rate for a long while. Do memory,
backlog and latency stay flat?

Load is open loop (harness/post.lua's delay(), at SOAK_RATE requests/s; 0: 60% of what a
short closed-loop run with workers reaches first), in windows of WINDOW_S seconds: after
each, RSS of every web and worker process, the window's p99, the `registrations` queue and
rows in PostgreSQL. Writes results/<UTC timestamp>/soak.json and soak.png.
"""

import os
import signal
import sys
import time
from dataclasses import asdict, replace

from bench.config import Context, make_stores, params_from, parser, start_support
from bench.measure import measure
from bench.soak_report import Sample, Soak, plot, summary_lines, verdict
from harness.meters import rss_mib
from harness.processes import Group, stop_all
from harness.queues import queue_state
from harness.reports import results_dir, write_json
from harness.rows import RowCounter
from harness.stack import LANDING, start_web, start_workers
from harness.stores import reset
from harness.wrk import Phones, Wrk

WINDOW_S = 5
CONNECTIONS = 64
CAPACITY_S = 10  # the closed-loop run that sizes the rate when none is given
CAPACITY_SHARE = 0.6


class Soaker:
    """Windows of open-loop load against one web, sampling the stack after each."""

    def __init__(self, context: Context, web: Group, workers: list[Group], rate: float):
        self.context, self.web, self.workers, self.rate = context, web, workers, rate
        self.phones = Phones(context.params.threads)
        self.counter = RowCounter(context.stores.database_url)
        self.answered = 0

    def run(self, seconds: float) -> list[Sample]:
        """Windows until `seconds` have passed, each sampled and printed."""
        samples, start = [], time.monotonic()
        try:
            while time.monotonic() - start < seconds:
                samples.append(self.window(time.monotonic() - start))
                print(_line(samples[-1]), flush=True)
        finally:
            self.counter.close()
        return samples

    def window(self, started: float) -> Sample:
        """One window of load, then what the stack looks like."""
        params = self.context.params
        load = Wrk(self.web.url, CONNECTIONS, params.threads, self.phones, rate=self.rate).run(
            WINDOW_S
        )
        self.answered += load.answered
        rows = self.counter()
        ready, _ = queue_state(self.context.stores.rabbitmq_url, "registrations")
        return Sample(
            t_s=round(started + load.seconds, 1), window_s=load.seconds, requests=load.requests,
            answered=load.answered, non2xx=load.non2xx, socket_errors=load.socket_errors,
            p99_ms=load.p99_ms, rss_mib=self._rss(), queue_ready=ready, rows=rows,
            backlog=self.answered - rows,
        )  # fmt: skip

    def _rss(self) -> dict[str, float]:
        found = {}
        for group in [self.web, *self.workers]:
            for pid in group.children():
                if (mib := rss_mib(pid)) is not None:
                    found[f"{group.name}:{pid}"] = round(mib, 1)
        return found


def capacity(context: Context, web: Group, workers: list[Group]) -> float:
    """Requests/s of a short closed-loop run with workers running, like (c)."""
    short = replace(context, params=replace(context.params, duration=CAPACITY_S))
    phones = Phones(context.params.threads)
    seen = measure(
        short, web, workers, lambda _: Wrk(web.url, CONNECTIONS, context.params.threads, phones)
    )
    print(f"bench: soak capacity {seen.load.rps:.0f} req/s (closed loop, c={CONNECTIONS})")
    return seen.load.rps


def main(argv: list[str] | None = None) -> int:
    """Size the rate, soak, always stop what we started, then write and print the verdict."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = _parser().parse_args(argv)
    context = Context(params_from(args), make_stores(), results_dir() / "logs")
    started: list[Group] = []
    try:
        started += start_support(context)
        started.append(web := start_web(LANDING, "web-landing", context.stores, context.log_dir))
        rate = args.rate or _sized_rate(context, web)
        reset(context.stores)
        started += (workers := start_workers(context.stores, context.log_dir))
        samples = Soaker(context, web, workers, rate).run(args.seconds)
    finally:
        stop_all(started)
    return _report(context, rate, samples)


def _sized_rate(context: Context, web: Group) -> float:
    reset(context.stores)
    workers = start_workers(context.stores, context.log_dir)
    try:
        return round(CAPACITY_SHARE * capacity(context, web, workers), 1)
    finally:
        stop_all(workers)


def _report(context: Context, rate: float, samples: list[Sample]) -> int:
    seconds = round(sum(s.window_s for s in samples), 1)
    achieved = round(sum(s.requests for s in samples) / seconds, 1) if seconds else 0.0
    soak = Soak(rate, achieved, seconds, verdict(samples, achieved), samples)
    folder = context.log_dir.parent
    data = {**asdict(soak), "ok": soak.verdict.ok}
    write_json(folder / "soak.json", data)
    plot(soak, folder / "soak.png")
    print("\n".join(summary_lines(soak)))
    print(f"bench: soak in {folder}/")
    return 0


def _parser():
    found = parser("python -m bench.soak", __doc__)
    env = os.environ
    found.add_argument("--seconds", type=float, default=float(env.get("SOAK_SECONDS", 600)))
    found.add_argument("--rate", type=float, default=float(env.get("SOAK_RATE", 0)))
    return found


def _line(sample: Sample) -> str:
    web = sum(v for k, v in sample.rss_mib.items() if k.startswith("web"))
    return (
        f"bench: soak t={sample.t_s:.0f}s: {sample.requests / sample.window_s:.0f} req/s, "
        f"p99 {sample.p99_ms:.1f} ms, non-2xx {sample.non2xx}, queue {sample.queue_ready}, "
        f"backlog {sample.backlog}, rows {sample.rows}, web RSS {web:.0f} MiB"
    )


if __name__ == "__main__":
    sys.exit(main())
