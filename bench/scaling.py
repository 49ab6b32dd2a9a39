"""`make bench-scaling`: how cost grows with processes and with the table's size.

With workers running (like (c), c=64): sign-ups/s and CPU per sign-up for 1 and 2 web
processes x 1 and 2 worker processes. Drain only: rows/s and worker CPU per row with 1,000,
10,000 and 100,000 rows already stored, and at 100,000 with half the backlog's phones among
them (the duplicate path). Writes results/<UTC timestamp>/scaling.json and scaling.md.
"""

import signal
import sys
from dataclasses import asdict

from bench import output
from bench.config import Context, make_stores, params_from, parser, start_support
from bench.drain import Drain
from bench.measure import measure
from bench.runs import ms_per
from bench.scaling_report import PreloadDrain, ScalingRun, markdown, summarise
from harness.processes import Group, stop_all
from harness.reports import results_dir, write_json
from harness.rows import preload
from harness.stack import LANDING, start_web, start_workers
from harness.stores import reset
from harness.wrk import Phones, Wrk

PROCESSES = (1, 2)  # web processes x worker processes
PRELOADS = (1_000, 10_000, 100_000)
CONNECTIONS = 64


class Scaler:
    """The runs of both tables, against gunicorns of 1 and 2 processes started once."""

    def __init__(self, context: Context, webs: dict[int, Group]) -> None:
        self.context, self.webs, self.params = context, webs, context.params
        self.phones = Phones(context.params.threads)

    def load(self, web: int, workers: int, repetition: int) -> ScalingRun:
        """Empty stores, workers of that many processes, then one measured run."""
        reset(self.context.stores)
        server = self.webs[web]
        group = start_workers(self.context.stores, self.context.log_dir, processes=workers)
        try:
            seen = measure(self.context, server, group, lambda _: self._wrk(server))
        finally:
            stop_all(group)
        load, cpu = seen.load, seen.cpu_s
        return ScalingRun(
            web, workers, repetition, load.rps, load.p99_ms, load.non2xx, load.socket_errors,
            seen.persisted_rps, seen.total_cpu_ms_per_row, ms_per(cpu["web"], load.requests),
            ms_per(cpu["worker-registrations"], seen.rows), cpu,
        )  # fmt: skip

    def drain(self, preloaded: int, duplicate_half: bool, repetition: int) -> PreloadDrain:
        """Preload, accept params.signups with no worker running, then time the drain."""
        reset(self.context.stores)
        backlog, offset = self.params.signups, self.phones.take()
        # wrk's thread i sends offset + k * threads + i: every other number of the next
        # `backlog` is one of a thread's (with 2 threads, all of thread 0's).
        duplicates = range(offset, offset + backlog, 2) if duplicate_half else range(0)
        preload(self.context.stores.database_url, preloaded, duplicates)
        server = self.webs[max(self.webs)]
        load = self._wrk(server, limit=backlog).run(3600)  # the Lua stops it after `backlog`
        # Without duplicates every 202 is a row to wait for; with them, wait until settled.
        target = None if duplicate_half else preloaded + load.answered
        run = Drain(self.context, target).run(load.answered)
        return PreloadDrain(preloaded, len(duplicates), repetition, run)

    def _wrk(self, server: Group, limit: int = 0) -> Wrk:
        return Wrk(server.url, CONNECTIONS, self.params.threads, self.phones, limit)


def measure_all(scaler: Scaler, repeat: int) -> tuple[list[ScalingRun], list[PreloadDrain]]:
    """Repetitions outermost, so drift in the machine's load spreads over every cell."""
    loads, drains = [], []
    for repetition in range(repeat):
        for web in PROCESSES:
            for workers in PROCESSES:
                loads.append(scaler.load(web, workers, repetition))
                print(_load_line(loads[-1]), flush=True)
        for preloaded, half in [*((n, False) for n in PRELOADS), (PRELOADS[-1], True)]:
            drains.append(scaler.drain(preloaded, half, repetition))
            print(_drain_line(drains[-1]), flush=True)
    return loads, drains


def main(argv: list[str] | None = None) -> int:
    """Both tables; always stop what we started; write and print scaling.md."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    params = params_from(parser("python -m bench.scaling", __doc__).parse_args(argv))
    context = Context(params, make_stores(), results_dir() / "logs")
    info = output.run_info(context, "make bench-scaling", "python -m bench.scaling")
    started = []
    try:
        started += start_support(context)
        webs = {}
        for n in PROCESSES:
            webs[n] = start_web(LANDING, f"web-{n}p", context.stores, context.log_dir,
                                processes=n)  # fmt: skip
            started.append(webs[n])
        loads, drains = measure_all(Scaler(context, webs), params.repeat)
    finally:
        stop_all(started)
    scaling = summarise(info, loads, drains)
    folder = context.log_dir.parent
    write_json(folder / "scaling.json", asdict(scaling))
    (folder / "scaling.md").write_text(page := markdown(scaling))
    print(page)
    print(f"bench: scaling in {folder}/")
    return 0


def _load_line(run: ScalingRun) -> str:
    return (
        f"bench: scaling web={run.web_processes} workers={run.worker_processes} "
        f"rep={run.repetition}: {run.rps:.0f} req/s, persisted {run.persisted_rps:.0f} rows/s, "
        f"stack {run.total_cpu_ms_per_row} ms CPU/row, p99 {run.p99_ms:.1f} ms"
    )


def _drain_line(item: PreloadDrain) -> str:
    drain = item.drain
    return (
        f"bench: scaling drain after {item.preloaded:,} rows ({item.duplicates:,} duplicates) "
        f"rep={item.repetition}: {drain.rows_per_s:.0f} rows/s, worker "
        f"{drain.worker_cpu_ms_per_row} ms CPU/row, drained {drain.drained}"
    )


if __name__ == "__main__":
    sys.exit(main())
