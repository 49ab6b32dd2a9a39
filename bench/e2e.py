"""End to end: N sign-ups through the stack, then watch PostgreSQL until every one is a row."""

import json
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.config import Context
from bench.runs import CpuSeconds, E2eRun, ms_per, stack_cpu_s
from harness.meters import CpuMeter
from harness.mongo import mongo_count
from harness.processes import Group, stop_all
from harness.queues import queue_state
from harness.rows import RowCounter
from harness.stack import start_workers
from harness.stores import reset
from harness.wrk import LoadRun, Phones, Wrk

SAMPLE_EVERY = 0.5  # seconds between row counts while wrk runs
DRAIN_SAMPLE_EVERY = 0.1  # and after: a short drain must not hide in one polling interval
# A backlog smaller than this at the end of load means the workers kept up; timing its
# drain would measure our polling, not the workers.
MIN_BACKLOG_TO_TIME = 200


class AcceptedCount:
    """202s gunicorn sent, from its JSON access log: the promises made.

    More than wrk counts: requests in flight when wrk stopped were still answered. Reads
    only what was appended since the last call (it is polled while the workers drain).
    """

    def __init__(self, access_log: Path) -> None:
        self.access_log, self.offset, self.count = access_log, 0, 0

    def __call__(self) -> int:
        with self.access_log.open("rb") as log:
            log.seek(self.offset)
            data = log.read()
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits
        self.offset += len(complete)
        lines = complete.decode(errors="replace").splitlines()
        self.count += sum(_is_accepted(line) for line in lines if line.startswith("{"))
        return self.count


def _is_accepted(line: str) -> bool:
    try:
        record = json.loads(line)
    except ValueError:
        return False
    return record.get("status") == 202 and record.get("path", "").startswith("/api/register")


@dataclass
class Watch:
    """What one repetition observed, before any rate is derived from it."""

    t0: float  # monotonic, when the load started
    load_s: float
    rows_at_load_end: int
    drain_s: float | None  # None: PostgreSQL never caught up
    rows: int
    accepted: int
    wrk: LoadRun
    samples: list[tuple[float, int]]
    cpu_s: CpuSeconds = field(default_factory=dict)
    mongo_documents: int | None = None
    attempts_ready: int = 0
    mongo_docs_per_s: float | None = None


class EndToEnd:
    """Repetitions of the end-to-end run against one landing gunicorn that logs its 202s."""

    def __init__(self, context: Context, web: Group, access_log: Path) -> None:
        self.context, self.web, self.access_log = context, web, access_log
        self.params, self.stores = context.params, context.stores
        self.phones = Phones(context.params.threads)
        self.accepted = AcceptedCount(access_log)

    def run(self) -> E2eRun:
        """One repetition: empty stores, start workers, load, drain, measure, stop workers."""
        reset(self.stores)
        self.access_log.write_text("")  # gunicorn appends (O_APPEND), so this empties it
        self.accepted = AcceptedCount(self.access_log)
        workers = start_workers(self.stores, self.context.log_dir)
        counter = RowCounter(self.stores.database_url)
        try:
            roots = {"web": self.web.pid, **{g.name: g.pid for g in workers}}
            meter = CpuMeter({**roots, **self.context.also_watch}).start()
            watch = self._load_and_drain(counter)
            watch.cpu_s = meter.stop()
            self._mongo(watch)
            self.context.memory.observe("web-landing", self.web.children())
            for group in workers:
                self.context.memory.observe(group.name, group.children())
        finally:
            counter.close()
            stop_all(workers)
        return derive(watch)

    def _load_and_drain(self, counter: RowCounter) -> Watch:
        params = self.params
        wrk = Wrk(self.web.url, params.e2e_concurrency, params.threads, self.phones, params.signups)
        sample = RowSamples(counter)
        wrk.start(3600)  # the Lua stops wrk after N responses
        try:
            while not _exited(wrk.process, SAMPLE_EVERY):
                sample()
        except BaseException:
            wrk.kill()  # never leave it running on its own (-d 3600)
            raise
        load_end, rows_at_load_end = time.monotonic(), sample()
        load = wrk.finish(60)
        drained_at = self._drain(sample, rows_at_load_end, load_end)
        if drained_at is not None:
            time.sleep(0.5)  # a 202 logged just after wrk exited (it abandoned the request)
            self._drain(sample, sample(), load_end)  # still counts: wait for its row too
        return Watch(
            t0=sample.t0, load_s=load_end - sample.t0, rows_at_load_end=rows_at_load_end,
            drain_s=None if drained_at is None else drained_at - load_end,
            rows=sample.samples[-1][1], accepted=self.accepted(), wrk=load, samples=sample.samples,
        )  # fmt: skip

    def _drain(self, sample, rows: int, load_end: float) -> float | None:
        """Count rows until they match the 202s sent; the time they did, None on timeout."""
        while rows < self.accepted():
            if time.monotonic() - load_end > self.params.drain_timeout:
                return None
            time.sleep(DRAIN_SAMPLE_EVERY)
            rows = sample()
        return time.monotonic()

    def _mongo(self, watch: Watch) -> None:
        """The attempt log where it stands: never waited for (the stand-in is slow)."""
        documents = mongo_count(self.stores.mongo_url)
        watch.attempts_ready, _ = queue_state(self.stores.rabbitmq_url, "attempts")
        watched = time.monotonic() - watch.t0
        watch.mongo_documents = documents
        watch.mongo_docs_per_s = None if documents is None else round(documents / watched, 1)


class RowSamples:
    """Rows in PostgreSQL over time, counted on demand, since the load started."""

    def __init__(self, counter: RowCounter) -> None:
        self.counter, self.t0 = counter, time.monotonic()
        self.samples: list[tuple[float, int]] = []

    def __call__(self) -> int:
        rows = self.counter()
        self.samples.append((round(time.monotonic() - self.t0, 2), rows))
        return rows


def _exited(process: subprocess.Popen, timeout: float) -> bool:
    try:
        process.wait(timeout)
        return True
    except subprocess.TimeoutExpired:
        return False


def derive(watch: Watch) -> E2eRun:
    """Rates from one repetition's raw observations."""
    accepted, load_s, drain_s = watch.accepted, watch.load_s, watch.drain_s
    backlog = accepted - watch.rows_at_load_end
    timed = drain_s is not None and drain_s > 0 and backlog >= MIN_BACKLOG_TO_TIME
    return E2eRun(
        accepted=accepted, wrk_2xx=watch.wrk.answered, rows=watch.rows,
        missing=accepted - watch.rows, drained=drain_s is not None, load_s=round(load_s, 2),
        ingest_rps=round(accepted / load_s, 1),
        persisted_during_load_rps=round(watch.rows_at_load_end / load_s, 1),
        backlog_at_load_end=backlog,
        drain_s=round(drain_s, 2) if timed else None,
        drain_rps=round(backlog / drain_s, 1) if timed else None,
        kept_up=backlog < MIN_BACKLOG_TO_TIME,
        worker_cpu_ms_per_row=ms_per(watch.cpu_s["worker-registrations"], watch.rows),
        web_cpu_ms_per_request=ms_per(watch.cpu_s["web"], accepted),
        mongo_documents=watch.mongo_documents, attempts_ready=watch.attempts_ready,
        mongo_docs_per_s=watch.mongo_docs_per_s,
        cpu_s=watch.cpu_s, wrk=watch.wrk, samples=watch.samples,
        total_cpu_ms_per_row=ms_per(stack_cpu_s(watch.cpu_s), watch.rows),
    )  # fmt: skip
