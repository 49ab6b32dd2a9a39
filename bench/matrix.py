"""Scenarios (a), (b), (c) side by side, on the same gunicorn settings, several times."""

import os
import time

from bench import services
from bench.config import Context
from bench.load import Phones, Wrk
from bench.procs import CpuMeter
from bench.stack import Group, start_workers, stop_all

SCENARIOS = {
    "a": "bare Flask: parse JSON, 202, no I/O (the ceiling)",
    "b": "POST /api/register/, workers stopped (ingest only)",
    "c": "POST /api/register/, workers running (ingest + drain)",
}
DRAIN_SAMPLE_EVERY = 0.1  # seconds between row counts while (d) drains


class Matrix:
    """Every scenario at every concurrency, interleaved, so drift in the machine's load
    (other engineers' runs) spreads over all scenarios instead of landing on one."""

    def __init__(self, context: Context, web: dict[str, Group]) -> None:
        self.context, self.web = context, web
        self.params, self.stores = context.params, context.stores
        self.phones = Phones(context.params.threads)

    def run(self) -> list[dict]:
        runs = []
        for repetition in range(self.params.repeat):
            for connections in self.params.concurrency:
                for scenario in SCENARIOS:
                    result = self.run_one(scenario, connections)
                    result.update(repetition=repetition)
                    runs.append(result)
                    print(_progress_line(result), flush=True)
        return runs

    def run_one(self, scenario: str, connections: int) -> dict:
        """Empty stores, (c): start workers, warm up, then measure one wrk run."""
        services.reset(self.stores)
        server = self.web["bare" if scenario == "a" else "landing"]
        workers = start_workers(self.stores, self.context.log_dir) if scenario == "c" else []
        try:
            warmup = self._wrk(server, connections).run(self.params.warmup)
            roots = {"web": server.pid, **{g.name: g.pid for g in workers}}
            meter = CpuMeter({**roots, **self.context.also_watch}).start()
            result = self._wrk(server, connections).run(self.params.duration)
            cpu = meter.stop()
            self._observe_memory(scenario, server, workers)
            ready, _ = services.queue_state(self.stores.rabbitmq_url, "registrations")
        finally:
            stop_all(workers)
        if scenario == "b":
            result["drain"] = self.drain(ready)
        result.update(scenario=scenario, concurrency=connections, cpu_s=cpu)
        # (b) has no consumer: every 202 of warm-up and run must be a message in the queue.
        result["answered_202"] = _answered(warmup) + _answered(result)
        result["registrations_ready_end"] = ready
        result["web_cpu_ms_per_request"] = _per_request(cpu["web"], result["requests"])
        return result

    def drain(self, backlog: int) -> dict:
        """(d) drain only: workers started on the backlog (b) left in RabbitMQ, timed from
        when they consume until PostgreSQL holds every row (each (b) phone is distinct)."""
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
            self._observe_memory("d", None, workers)
        finally:
            counter.close()
            stop_all(workers)
        stored = rows - first
        return {
            "backlog": backlog,
            "rows": rows,
            "drained": rows >= backlog,
            "timed_rows": stored,
            "seconds": round(seconds, 2),
            "rows_per_s": round(stored / seconds, 1),
            "worker_cpu_ms_per_row": _per_request(cpu["worker-registrations"], stored),
            "cpu_s": cpu,
        }

    def _wrk(self, server: Group, connections: int) -> Wrk:
        return Wrk(server.url, connections, self.params.threads, self.phones)

    def _observe_memory(self, scenario: str, server: Group | None, workers: list[Group]) -> None:
        memory = self.context.memory
        if server is not None:
            memory.observe("web-bare" if scenario == "a" else "web-landing", server.children())
        for group in workers:
            memory.observe(group.name, group.children())


def _answered(load: dict) -> int:
    return load["requests"] - load["non2xx"]


def _per_request(cpu_seconds: float, requests: int) -> float | None:
    return round(cpu_seconds * 1000 / requests, 3) if requests else None


def _progress_line(result: dict) -> str:
    drain = result.get("drain")
    drained = (
        f"; (d) drained {drain['rows']} of {drain['backlog']} at {drain['rows_per_s']:.0f} "
        f"rows/s, worker {drain['worker_cpu_ms_per_row']} ms CPU/row"
        if drain
        else ""
    )
    return (
        f"bench: ({result['scenario']}) c={result['concurrency']} rep={result['repetition']}: "
        f"{result['rps']:.0f} req/s, p50 {result['p50_ms']:.1f} ms, "
        f"p99 {result['p99_ms']:.1f} ms, non-2xx {result['non2xx']}, "
        f"socket errors {result['socket_errors']}, machine busy "
        f"{result['cpu_s']['machine_busy_cores']} of {os.cpu_count()} cores{drained}"
    )
