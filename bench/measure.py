"""One measured wrk run: warm-up, then load with every tree's CPU and the rows it stored."""

from collections.abc import Callable
from dataclasses import dataclass

from bench.config import Context
from bench.runs import CpuSeconds, ms_per, stack_cpu_s
from harness.meters import CpuMeter
from harness.processes import Group
from harness.rows import RowCounter
from harness.wrk import LoadRun, Wrk


@dataclass
class Measured:
    """What a warm-up and the run after it saw."""

    warmup: LoadRun
    load: LoadRun
    cpu_s: CpuSeconds
    rows: int  # rows PostgreSQL gained from just before the run to just after it

    @property
    def persisted_rps(self) -> float:
        """Rows stored per second of the measured run."""
        return round(self.rows / self.load.seconds, 1) if self.load.seconds else 0.0

    @property
    def total_cpu_ms_per_row(self) -> float | None:
        """The stack's CPU (every tree but wrk and the stand-in) per row stored."""
        return ms_per(stack_cpu_s(self.cpu_s), self.rows)


def measure(
    context: Context, server: Group, workers: list[Group], wrk: Callable[[int], Wrk],
    door: Group | None = None,
) -> Measured:  # fmt: skip
    """Warm up, then one run of params.duration with CPU metered and rows counted around it.

    wrk(seconds) makes a new Wrk for each of the two runs (one Wrk runs once), before its
    run and outside the meter: the challenge scenario solves its challenges there. door:
    the nginx wrk goes through to server, if any; its tree is metered as "nginx".
    """
    counter = RowCounter(context.stores.database_url)
    params = context.params
    try:
        warmup = wrk(params.warmup).run(params.warmup)
        measured = wrk(params.duration)
        roots = {"web": server.pid, **{g.name: g.pid for g in workers}}
        if door is not None:
            roots["nginx"] = door.pid
        before = counter()
        meter = CpuMeter({**roots, **context.also_watch}).start()
        load = measured.run(params.duration)
        after = counter()
        cpu = meter.stop()
    finally:
        counter.close()
    for group in [server, *workers, *([door] if door else [])]:
        # Each group's name is its role: web-bare, nginx-bare, worker-registrations, ...
        context.memory.observe(group.name, group.children())
    return Measured(warmup, load, cpu, after - before)
