"""The matrix: the bare app and landing, ingest only and with workers, several times."""

import os
import time

from bench import services
from bench.config import Context
from bench.load import Phones, Wrk
from bench.procs import CpuMeter
from bench.runs import MATRIX, DrainRun, MatrixRun, Scenario, ms_per
from bench.stack import Group, start_workers, stop_all

DRAIN_SAMPLE_EVERY = 0.1  # seconds between row counts while the workers drain


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
        services.reset(self.stores)
        server = self.bare if scenario is Scenario.BARE_FLASK else self.landing
        with_workers = scenario is Scenario.INGEST_AND_DRAIN
        workers = start_workers(self.stores, self.context.log_dir) if with_workers else []
        try:
            warmup = self._wrk(server, connections).run(self.params.warmup)
            roots = {"web": server.pid, **{g.name: g.pid for g in workers}}
            meter = CpuMeter({**roots, **self.context.also_watch}).start()
            load = self._wrk(server, connections).run(self.params.duration)
            cpu = meter.stop()
            self._observe_memory([server, *workers])
            ready, _ = services.queue_state(self.stores.rabbitmq_url, "registrations")
        finally:
            stop_all(workers)
        return MatrixRun(
            **vars(load), scenario=scenario, concurrency=connections, cpu_s=cpu,
            # Ingest only has no consumer: every 202 of warm-up and run is a queued message.
            answered_202=warmup.answered + load.answered, registrations_ready_end=ready,
            web_cpu_ms_per_request=ms_per(cpu["web"], load.requests), repetition=repetition,
            drain=self.drain(ready) if scenario is Scenario.INGEST_ONLY else None,
        )  # fmt: skip

    def drain(self, backlog: int) -> DrainRun:
        """Drain only: workers started on the backlog ingest only left in RabbitMQ, timed from
        when they consume until PostgreSQL holds every row (each of its phones is distinct)."""
        counter = services.RowCounter(self.stores.database_url)
        workers = start_workers(self.stores, self.context.log_dir)
        try:
            roots = {g.name: g.pid for g in workers}
            meter = CpuMeter({**roots, **self.context.also_watch}).start()
            start = time.monotonic()
            first = rows = counter()
            while rows < backlog and time.monotonic() - start < self.params.drain_timeout:
                time.sleep(DRAIN_SAMPLE_EVERY)
                rows = counter()
            seconds = time.monotonic() - start
            cpu = meter.stop()
            self._observe_memory(workers)
        finally:
            counter.close()
            stop_all(workers)
        stored = rows - first
        return DrainRun(
            backlog=backlog, rows=rows, drained=rows >= backlog, timed_rows=stored,
            seconds=round(seconds, 2), rows_per_s=round(stored / seconds, 1),
            worker_cpu_ms_per_row=ms_per(cpu["worker-registrations"], stored), cpu_s=cpu,
        )  # fmt: skip

    def _wrk(self, server: Group, connections: int) -> Wrk:
        return Wrk(server.url, connections, self.params.threads, self.phones)

    def _observe_memory(self, groups: list[Group]) -> None:
        # Each group's name is its role: web-bare, web-landing, worker-registrations, ...
        for group in groups:
            self.context.memory.observe(group.name, group.children())


def _progress_line(run: MatrixRun) -> str:
    drain = run.drain
    drained = (
        f"; (d) drained {drain.rows} of {drain.backlog} at {drain.rows_per_s:.0f} "
        f"rows/s, worker {drain.worker_cpu_ms_per_row} ms CPU/row"
        if drain
        else ""
    )
    return (
        f"bench: ({run.scenario}) c={run.concurrency} rep={run.repetition}: "
        f"{run.rps:.0f} req/s, p50 {run.p50_ms:.1f} ms, "
        f"p99 {run.p99_ms:.1f} ms, non-2xx {run.non2xx}, "
        f"socket errors {run.socket_errors}, machine busy "
        f"{run.cpu_s['machine_busy_cores']} of {os.cpu_count()} cores{drained}"
    )
