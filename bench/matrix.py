"""The matrix: the bare app and landing, ingest only (direct and through our nginx), with
workers and with the challenge, several times."""

import os
from dataclasses import dataclass

from bench.config import Context
from bench.drain import Drain
from bench.measure import Measured, measure
from bench.runs import MATRIX, VIA_NGINX, DrainRun, MatrixRun, Scenario, ms_per
from bench.solutions import Solutions
from bench.targets import TARGET_CONCURRENCY
from harness.processes import Group, stop_all
from harness.queues import queue_state
from harness.stack import start_workers
from harness.stores import reset
from harness.wrk import Phones, Wrk

# The challenge scenario runs at these concurrencies only: what it adds per sign-up is
# the same at any, and each level costs `make bench` another run per repetition.
CHALLENGE_CONCURRENCY = (TARGET_CONCURRENCY,)
# Requests/s no run can reach, for sizing a challenge run's solutions when no bare run at
# its concurrency came before it (bare Flask is the ceiling: see Solutions.write).
UNMEASURED_CEILING_RPS = 10_000.0


@dataclass
class Challenge:
    """The challenge scenario's web (CHALLENGE_MODE=always) and its solutions' signer."""

    web: Group
    solutions: Solutions


@dataclass
class Doors:
    """Our nginx in front of each web of (a) and (b), up for the whole matrix
    (harness.door.start_nginx): the scenarios via nginx go through them."""

    bare: Group
    landing: Group


class Matrix:
    """Every scenario at every concurrency, interleaved, so drift in the machine's load
    (other runs on the machine) spreads over all scenarios instead of landing on one."""

    def __init__(
        self, context: Context, bare: Group, landing: Group, challenge: Challenge | None = None,
        doors: Doors | None = None,
    ) -> None:  # fmt: skip
        self.context, self.bare, self.landing = context, bare, landing
        self.challenge = challenge  # None: the challenge scenario is left out
        self.doors = doors  # None: the scenarios via nginx are left out
        self.params, self.stores = context.params, context.stores
        self.phones = Phones(context.params.threads)
        self.ceiling_rps: dict[tuple[int, int], float] = {}  # bare's, by (c, repetition)

    def run(self) -> list[MatrixRun]:
        """Every run of the matrix, each printed as it ends."""
        runs = []
        for repetition in range(self.params.repeat):
            for connections in self.params.concurrency:
                for scenario in self.scenarios(connections):
                    runs.append(self.run_one(scenario, connections, repetition))
                    print(_progress_line(runs[-1]), flush=True)
                    if scenario is Scenario.BARE_FLASK:
                        self.ceiling_rps[connections, repetition] = runs[-1].rps
        return runs

    def scenarios(self, connections: int) -> list[Scenario]:
        """The scenarios run at this concurrency: the challenge's only at its own, those via
        nginx only with doors."""
        with_challenge = self.challenge is not None and connections in CHALLENGE_CONCURRENCY
        left_out = set() if with_challenge else {Scenario.INGEST_CHALLENGE}
        if self.doors is None:
            left_out |= VIA_NGINX
        return [s for s in MATRIX if s not in left_out]

    def run_one(self, scenario: Scenario, connections: int, repetition: int) -> MatrixRun:
        """Empty stores, workers if the scenario has them, warm up, then one measured run.

        Via nginx, wrk goes through the web's door, and both trees are metered: the web's
        CPU per request is the web's alone, as direct, and nginx's is apart. (b) via nginx
        has no drain after it: its 202s are the same web's, code and all, as (b)'s, whose
        drain checks that each became a row (the promise target judges (b) alone).
        """
        reset(self.stores)
        server, door = self._server(scenario), self._door(scenario)
        with_workers = scenario is Scenario.INGEST_AND_DRAIN
        workers = start_workers(self.stores, self.context.log_dir) if with_workers else []
        ceiling = self.ceiling_rps.get((connections, repetition), UNMEASURED_CEILING_RPS)
        solutions = self.challenge.solutions if self.challenge else None
        if scenario is not Scenario.INGEST_CHALLENGE:
            solutions = None

        def wrk(seconds: int) -> Wrk:
            path = solutions.write(seconds, ceiling) if solutions else None
            url = (door or server).url
            return Wrk(url, connections, self.params.threads, self.phones, solutions=path)

        try:
            seen = measure(self.context, server, workers, wrk, door)
            ready, _ = queue_state(self.stores.rabbitmq_url, "registrations")
        finally:
            stop_all(workers)
            if solutions:
                solutions.remove()
        load, cpu = seen.load, seen.cpu_s
        # Every phone is distinct, so each 202 of warm-up and run must become one row.
        answered = seen.warmup.answered + load.answered
        return MatrixRun(
            **vars(load), scenario=scenario, concurrency=connections, cpu_s=cpu,
            answered_202=answered, registrations_ready_end=ready,
            web_cpu_ms_per_request=ms_per(cpu["web"], load.requests), repetition=repetition,
            nginx_cpu_ms_per_request=ms_per(cpu["nginx"], load.requests) if door else None,
            drain=self.drain(answered) if scenario is Scenario.INGEST_ONLY else None,
            **(_persisted(seen) if with_workers else {}),
        )  # fmt: skip

    def drain(self, backlog: int) -> DrainRun:
        """Drain only: workers started on the sign-ups ingest only accepted, timed from when
        they consume until PostgreSQL holds every one (each of its phones is distinct)."""
        return Drain(self.context, target=backlog).run(backlog)

    def _server(self, scenario: Scenario) -> Group:
        if scenario in (Scenario.BARE_FLASK, Scenario.BARE_NGINX):
            return self.bare
        if scenario is Scenario.INGEST_CHALLENGE and self.challenge:
            return self.challenge.web
        return self.landing

    def _door(self, scenario: Scenario) -> Group | None:
        """The nginx in front of the scenario's web, if it goes through one."""
        if scenario not in VIA_NGINX or self.doors is None:
            return None
        return self.doors.bare if scenario is Scenario.BARE_NGINX else self.doors.landing


def _persisted(seen: Measured) -> dict:
    """(c)'s figures: rows stored during the run, their rate, the stack's CPU per row."""
    return dict(
        persisted_rows=seen.rows,
        persisted_rps=seen.persisted_rps,
        total_cpu_ms_per_row=seen.total_cpu_ms_per_row,
    )


def _progress_line(run: MatrixRun) -> str:
    drain = run.drain
    per_message = (
        f"; {run.signups_per_message:.1f} sign-ups per message"
        if run.signups_per_message is not None
        else ""
    )
    drained = (
        f"; (d) drained {drain.rows} of {drain.backlog} at {drain.rows_per_s:.0f} "
        f"rows/s, worker {drain.worker_cpu_ms_per_row} ms CPU/row"
        if drain
        else ""
    )
    nginx = (
        f", nginx {run.nginx_cpu_ms_per_request} ms CPU/req" if run.scenario in VIA_NGINX else ""
    )
    persisted = (
        f", persisted {run.persisted_rps:.0f} rows/s, stack {run.total_cpu_ms_per_row} ms CPU/row"
        if run.persisted_rps is not None
        else ""
    )
    challenge = (
        f", 202s {run.accepted_rps:.0f}/s, non-202 {run.non202} (sent unsolved {run.unsolved})"
        if run.scenario is Scenario.INGEST_CHALLENGE
        else ""
    )
    return (
        f"bench: ({run.scenario}) c={run.concurrency} rep={run.repetition}: "
        f"{run.rps:.0f} req/s{challenge}, p50 {run.p50_ms:.1f} ms, "
        f"p99 {run.p99_ms:.1f} ms, non-2xx {run.non2xx}, "
        f"socket errors {run.socket_errors}, web {run.web_cpu_ms_per_request} ms CPU/req"
        f"{nginx}, machine busy {run.cpu_s['machine_busy_cores']} of {os.cpu_count()} cores"
        f"{persisted}{per_message}{drained}"
    )
