"""The matrix: the bare app and landing, ingest only and with workers, several times."""

import os

from bench.config import Context
from bench.drain import Drain
from bench.measure import Measured, measure
from bench.runs import MATRIX, DrainRun, MatrixRun, Scenario, ms_per
from harness.processes import Group, stop_all
from harness.queues import queue_state
from harness.stack import start_workers
from harness.stores import reset
from harness.wrk import Phones, Wrk


class Matrix:
    """Every scenario at every concurrency, interleaved, so drift in the machine's load
    (other runs on the machine) spreads over all scenarios instead of landing on one."""

    def __init__(self, context: Context, bare: Group, landing: Group) -> None:
        self.context, self.bare, self.landing = context, bare, landing
        self.params, self.stores = context.params, context.stores
        self.phones = Phones(context.params.threads)

    def run(self) -> list[MatrixRun]:
        """Every run of the matrix, each printed as it ends."""
        runs = []
        for repetition in range(self.params.repeat):
            for connections in self.params.concurrency:
                for scenario in MATRIX:
                    runs.append(self.run_one(scenario, connections, repetition))
                    print(_progress_line(runs[-1]), flush=True)
        return runs

    def run_one(self, scenario: Scenario, connections: int, repetition: int) -> MatrixRun:
        """Empty stores, workers if the scenario has them, warm up, then one measured run."""
        reset(self.stores)
        server = self.bare if scenario is Scenario.BARE_FLASK else self.landing
        with_workers = scenario is Scenario.INGEST_AND_DRAIN
        workers = start_workers(self.stores, self.context.log_dir) if with_workers else []
        try:
            seen = measure(self.context, server, workers, lambda: self._wrk(server, connections))
            ready, _ = queue_state(self.stores.rabbitmq_url, "registrations")
        finally:
            stop_all(workers)
        load, cpu = seen.load, seen.cpu_s
        # Every phone is distinct, so each 202 of warm-up and run must become one row.
        answered = seen.warmup.answered + load.answered
        return MatrixRun(
            **vars(load), scenario=scenario, concurrency=connections, cpu_s=cpu,
            answered_202=answered, registrations_ready_end=ready,
            web_cpu_ms_per_request=ms_per(cpu["web"], load.requests), repetition=repetition,
            drain=self.drain(answered) if scenario is Scenario.INGEST_ONLY else None,
            **(_persisted(seen) if with_workers else {}),
        )  # fmt: skip

    def drain(self, backlog: int) -> DrainRun:
        """Drain only: workers started on the sign-ups ingest only accepted, timed from when
        they consume until PostgreSQL holds every one (each of its phones is distinct)."""
        return Drain(self.context, target=backlog).run(backlog)

    def _wrk(self, server: Group, connections: int) -> Wrk:
        return Wrk(server.url, connections, self.params.threads, self.phones)


def _persisted(seen: Measured) -> dict:
    """(c)'s figures: rows stored during the run, their rate, the stack's CPU per row."""
    return dict(
        persisted_rows=seen.rows,
        persisted_rps=seen.persisted_rps,
        total_cpu_ms_per_row=seen.total_cpu_ms_per_row,
    )


def _progress_line(run: MatrixRun) -> str:
    drain = run.drain
    drained = (
        f"; {drain.backlog / max(1, run.registrations_ready_end):.1f} sign-ups per message"
        f"; (d) drained {drain.rows} of {drain.backlog} at {drain.rows_per_s:.0f} "
        f"rows/s, worker {drain.worker_cpu_ms_per_row} ms CPU/row"
        if drain
        else ""
    )
    persisted = (
        f", persisted {run.persisted_rps:.0f} rows/s, stack {run.total_cpu_ms_per_row} ms CPU/row"
        if run.persisted_rps is not None
        else ""
    )
    return (
        f"bench: ({run.scenario}) c={run.concurrency} rep={run.repetition}: "
        f"{run.rps:.0f} req/s, p50 {run.p50_ms:.1f} ms, "
        f"p99 {run.p99_ms:.1f} ms, non-2xx {run.non2xx}, "
        f"socket errors {run.socket_errors}, web {run.web_cpu_ms_per_request} ms CPU/req, "
        f"machine busy {run.cpu_s['machine_busy_cores']} of {os.cpu_count()} cores"
        f"{persisted}{drained}"
    )
