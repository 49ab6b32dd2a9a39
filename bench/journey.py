"""`make bench-journey`: the visitor's journey (POST, then page.js's polls, if any) on this
machine.

Three runs per repetition, each on empty stores, at the same visitor rate:
- POST only, workers running: the web's CPU per accepted sign-up without polls;
- keeping up: the journey with the workers running;
- backlog: BENCH_BACKLOG_SECONDS of arrivals at that rate queued first with the workers
  stopped, then the journey, the workers started only once it is over: every visitor's
  sign-up waits behind the backlog for as long as the visitor is there.
The web's CPU of each journey run, less its sign-ups at the POST-only price, is what the
polls cost (bench/journey_report.py says why a difference). Results go to
results/journey-<UTC timestamp>/ (journey.json, journey.md).

BENCH_JOURNEY_RATE (visitors/s), BENCH_JOURNEY_SECONDS (arrivals, per run),
BENCH_JOURNEY_CONNECTIONS, BENCH_BACKLOG_SECONDS (0: no backlog case) and
BENCH_JOURNEY_REPEAT tune it.
"""

import argparse
import os
import signal
import sys
from collections.abc import Callable

from bench import journey_report
from bench.config import Context, Params, make_stores, start_support
from bench.targets import journey_targets
from harness import journey
from harness.local import ROOT, wait_until
from harness.meters import CpuMeter
from harness.processes import Group, stop_all
from harness.reports import command, machine, now_utc, results_dir, write_json
from harness.rows import RowCounter
from harness.stack import LANDING, start_web, start_workers
from harness.stores import reset

PHONES_PER_RUN = 10_000_000  # each run's numbers start past the previous run's
# Visitors/s that queue the backlog case's backlog: as fast as the client goes.
PREFILL_RATE = 1_500.0


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Flags win over the BENCH_* environment variables, which win over the defaults."""
    env = os.environ
    found = argparse.ArgumentParser(prog="python -m bench.journey", description=__doc__)
    found.add_argument("--rate", type=float, default=float(env.get("BENCH_JOURNEY_RATE", 100)))
    found.add_argument("--seconds", type=float, default=float(env.get("BENCH_JOURNEY_SECONDS", 60)))
    found.add_argument(
        "--connections", type=int, default=int(env.get("BENCH_JOURNEY_CONNECTIONS", 512))
    )
    found.add_argument(
        "--backlog", type=float, default=float(env.get("BENCH_BACKLOG_SECONDS", 600))
    )
    found.add_argument("--repeat", type=int, default=int(env.get("BENCH_JOURNEY_REPEAT", 1)))
    return found.parse_args(argv)


class Journeys:
    """The runs, on one landing web the whole time; workers come and go with the runs."""

    def __init__(self, context: Context, web: Group, args: argparse.Namespace) -> None:
        self.context, self.web, self.args = context, web, args
        assert web.url is not None  # start_web sets it
        self.url = web.url
        self.runs = 0

    def phones(self) -> Callable[[int], str]:
        """Distinct numbers for the next run's visitors."""
        first = self.runs * PHONES_PER_RUN
        self.runs += 1
        return lambda n: f"09{(first + n) % 1_000_000_000:09d}"

    def one(self, polls: bool, backlog: float = 0) -> dict:
        """One run on empty stores, the web's CPU metered from the first visitor until the
        last visitor's journey ended. backlog: seconds of arrivals at the run's rate queued
        ahead of it with the workers stopped (they start once the run is over). Then every
        sign-up accepted, ahead and in the run, is waited for in PostgreSQL."""
        reset(self.context.stores)
        workers = [] if backlog else self._workers()
        try:
            ahead = self._queue_ahead(backlog) if backlog else 0
            meter = CpuMeter({"web": self.web.pid}).start()
            load = journey.run(
                self.url, self.args.rate, self.args.seconds, self.args.connections,
                self.phones(), polls=polls,
            ).figures()  # fmt: skip
            cpu = meter.stop()
            if not workers:
                workers += self._workers()
            stored = self._all_stored(ahead + accepted(load))
        finally:
            stop_all(workers)
        return {"load": load, "web_cpu_s": cpu["web"], "queued_ahead": ahead,
                "all_stored": stored, "machine_busy_cores": cpu["machine_busy_cores"]}  # fmt: skip

    def _queue_ahead(self, backlog: float) -> int:
        """backlog seconds of the run's arrivals, sent as fast as PREFILL_RATE allows (they
        only have to be queued, not timed): the sign-ups accepted."""
        count = backlog * self.args.rate
        ahead = journey.run(
            self.url, PREFILL_RATE, count / PREFILL_RATE, self.args.connections,
            self.phones(), polls=False,
        )  # fmt: skip
        return accepted(ahead.figures())

    def _all_stored(self, promised: int) -> bool:
        """Whether PostgreSQL holds at least `promised` rows within the drain timeout."""
        counter = RowCounter(self.context.stores.database_url)
        try:
            timeout = self.context.params.drain_timeout
            return bool(wait_until(lambda: counter() >= promised, timeout, every=0.5))
        finally:
            counter.close()

    def _workers(self) -> list[Group]:
        return start_workers(self.context.stores, self.context.log_dir)


def accepted(load: dict) -> int:
    """Visitors whose POST was answered 202 (whatever their polls saw)."""
    return sum(n for outcome, n in load["outcomes"].items() if outcome not in _NOT_ACCEPTED)


# Outcomes of a visitor whose POST never got its 202 (a status code, or no answer at all).
_NOT_ACCEPTED = frozenset({"unavailable"} | {str(code) for code in range(100, 600)} - {"202"})


def measure(context: Context, args: argparse.Namespace, started: list[Group]) -> dict:
    """Every repetition's runs on a landing web of their own: the journey's section of
    results (its setting, the POST-only runs, then each case's runs with their split).

    started: the caller's list of what to stop; the web is in it while it runs.
    """
    web = start_web(LANDING, "web-journey", context.stores, context.log_dir)
    started.append(web)
    try:
        runs = Journeys(context, web, args)
        plan = [("keeping_up", 0.0), ("backlog", args.backlog)]
        plan = plan if args.backlog > 0 else plan[:1]
        section: dict = {"setting": setting(args), "post_only": []}
        section.update({case: [] for case, _ in plan})
        for repetition in range(args.repeat):
            section["post_only"].append(runs.one(polls=False))
            first = section["post_only"][-1]
            _progress("POST only", repetition, first)
            price = journey_report.signup_ms(first["web_cpu_s"], accepted(first["load"]))
            for case, after in plan:
                run = runs.one(polls=True, backlog=after)
                load = run["load"]
                run["split"] = journey_report.poll_split(
                    run["web_cpu_s"], accepted(load), load["polls"], price
                )
                section[case].append(run)
                _progress(case, repetition, run)
        return section
    finally:
        started.remove(web)
        web.stop()


def setting(args: argparse.Namespace) -> dict:
    """What the runs were asked to do."""
    return {
        "rate": args.rate, "seconds": args.seconds, "connections": args.connections,
        "backlog_seconds": args.backlog, "repeat": args.repeat,
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    """The journey alone: its runs, then its page and targets, printed and written."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    args = parse(argv)
    folder = results_dir("journey-")
    context = Context(Params(), make_stores(), folder / "logs")
    started: list[Group] = []
    try:
        started += start_support(context)
        section = measure(context, args, started)
    finally:
        stop_all(started)
    info = {
        "date_utc": now_utc(), "machine": machine(),
        "command": command("BENCH_", "make bench-journey", "python -m bench.journey"),
    }  # fmt: skip
    targets = journey_targets(section)
    write_json(folder / "journey.json", {
        "info": info, **section, "targets": [vars(t) for t in targets],
    })  # fmt: skip
    page = journey_report.page(info, section)
    (folder / "journey.md").write_text(page)
    print(page)
    print(f"bench: journey results in {folder.relative_to(ROOT)}/")
    return 0


def _progress(name: str, repetition: int, run: dict) -> None:
    load, split = run["load"], run.get("split", {})
    share = split.get("share")
    print(
        f"bench: journey ({name}) rep={repetition}: {load['visitors']} visitors, "
        f"{load['served_per_s']} served/s, {run['queued_ahead']} queued ahead, "
        f"all stored {run['all_stored']}, {load['outcomes']}, "
        f"{load['polls_per_visitor']} polls/visitor, POST->registered p50 "
        f"{load['to_registered_p50_ms']} ms p99 {load['to_registered_p99_ms']} ms, web "
        f"{run['web_cpu_s']} CPU s" + (f", polls {share:.1%} of it" if share is not None else ""),
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
