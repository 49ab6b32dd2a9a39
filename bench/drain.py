"""Drain only: workers started on a backlog the web accepted while none ran, timed until
PostgreSQL holds what it should."""

import time

from bench.config import Context
from bench.runs import DrainRun, ms_per
from harness.meters import CpuMeter
from harness.processes import stop_all
from harness.queues import queue_state
from harness.rows import RowCounter
from harness.stack import spawn_workers

SAMPLE_EVERY = 0.1  # seconds between row counts while the workers drain
# With no row count to wait for (duplicates store nothing), the drain is over once the
# queue has nothing ready and the rows stopped growing for this long. The workers hold up to
# their prefetch unacknowledged, so an empty queue alone would end it early.
SETTLE_S = 1.0


class Drain:
    """One drain: rows counted on one connection until the target (or settled), then rates."""

    def __init__(self, context: Context, target: int | None, processes: int = 0) -> None:
        self.context, self.target, self.processes = context, target, processes
        self.counter = RowCounter(context.stores.database_url)

    def run(self, backlog: int) -> DrainRun:
        """Launch the workers, time them on backlog sign-ups, stop them; what they did.

        Rows, time and CPU all count from the workers' launch: waiting until they consume
        first let them store thousands of rows unseen (at c=1024 all of them), so their
        start-up (about a second) is in the figures, which err on the slow side."""
        context = self.context
        first = self.counter()  # no worker runs yet: what PostgreSQL held before the drain
        workers = spawn_workers(context.stores, context.log_dir, self.processes)
        try:
            meter = CpuMeter({**{g.name: g.pid for g in workers}, **context.also_watch}).start()
            rows, seconds = self._watch(first)
            cpu = meter.stop()
            for group in workers:
                context.memory.observe(group.name, group.children())
        finally:
            self.counter.close()
            stop_all(workers)
        stored = rows - first
        drained = rows >= self.target if self.target is not None else seconds is not None
        seconds = seconds or self.context.params.drain_timeout
        return DrainRun(
            backlog=backlog, rows=rows, drained=drained, timed_rows=stored,
            seconds=round(seconds, 2), rows_per_s=round(stored / seconds, 1),
            worker_cpu_ms_per_row=ms_per(cpu["worker-registrations"], stored), cpu_s=cpu,
        )  # fmt: skip

    def _watch(self, first: int) -> tuple[int, float | None]:
        """(rows at the end, seconds until the last row came; None: timed out)."""
        start = time.monotonic()
        rows = first
        changed, timeout = start, self.context.params.drain_timeout
        while self.target is None or rows < self.target:
            now = time.monotonic()
            if now - start > timeout:
                return rows, None
            if self.target is None and now - changed >= SETTLE_S and self._queue_empty():
                break
            time.sleep(SAMPLE_EVERY)
            counted = self.counter()
            if counted != rows:
                rows, changed = counted, time.monotonic()
        end = changed if self.target is None else time.monotonic()
        return rows, max(end - start, 1e-3)

    def _queue_empty(self) -> bool:
        ready, _ = queue_state(self.context.stores.rabbitmq_url, "registrations")
        return ready == 0
