"""`make bench`: the real stack on this machine, measured with wrk, reported with medians.

Phases: the matrix (bare Flask, ingest only with its drain, both of them again through our
nginx.conf, ingest with workers, and at c=64 ingest with the sign-up challenge required)
at each concurrency, then end to end
(N sign-ups until PostgreSQL holds them all), then the visitor's journey (bench.journey).
BENCH_SCENARIOS picks phases (matrix, e2e, journey; all by default). Results go to
results/<UTC timestamp>/ and results/latest.
"""

import signal
import sys
import time

from bench import bare, journey, output, summary
from bench.config import Context, make_stores, parse_params, start_support
from bench.e2e import EndToEnd
from bench.matrix import CHALLENGE_CONCURRENCY, Challenge, Doors, Matrix
from bench.results import RunInfo
from bench.runs import E2eRun, MatrixRun
from bench.solutions import Solutions, server_env
from harness.door import start_nginx
from harness.local import ROOT
from harness.meters import CpuMeter
from harness.processes import Group, stop_all
from harness.reports import loadavg, results_dir
from harness.stack import LANDING, start_web


def main(argv: list[str] | None = None) -> int:
    """Run every phase, always stop what we started, then write and print the report."""
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so the finally below still runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    context = Context(parse_params(argv), make_stores(), results_dir() / "logs")
    started: list[Group] = []
    info = output.run_info(context)
    try:
        started += start_support(context)
        info.background_busy_cores_before = _background_busy()
        phases = context.params.scenarios
        runs = _matrix(context, started) if "matrix" in phases else []
        e2e_runs = _end_to_end(context, started, info) if "e2e" in phases else []
        section = _journey(context, started, info) if "journey" in phases else None
    finally:
        stop_all(started)
    info.background_busy_cores_after = _background_busy()
    info.loadavg_after = loadavg()
    results = summary.summarise(info, context, runs, e2e_runs, section)
    print(output.write(context.log_dir.parent, results))
    print(f"bench: results in {context.log_dir.parent.relative_to(ROOT)}/ (and results/latest)")
    return 0


def _matrix(context: Context, started: list[Group]) -> list[MatrixRun]:
    """The servers up for the whole matrix (the challenge's one only if it runs: at
    CHALLENGE_CONCURRENCY), and our nginx in front of bare Flask's and landing's, stopped
    with them; workers come and go with the scenarios."""
    solutions = Solutions()
    servers: list[tuple[str, str, dict[str, str]]] = [
        ("bare", bare.APP, {}),
        ("landing", LANDING, {}),
    ]
    if set(context.params.concurrency) & set(CHALLENGE_CONCURRENCY):
        servers.append(("challenge", LANDING, server_env(solutions.secret)))
    ours: list[Group] = []
    for name, app, env in servers:  # each in `started` once up: main's finally stops it
        ours.append(start_web(app, f"web-{name}", context.stores, context.log_dir, env=env))
        started.append(ours[-1])
    challenge = Challenge(ours[2], solutions) if len(ours) == 3 else None
    for web in ours[:2]:  # bare and landing: each its own nginx, as in production
        ours.append(start_nginx(web.url, web.name.replace("web-", "nginx-"), context.log_dir))
        started.append(ours[-1])
    doors = Doors(ours[-2], ours[-1])
    try:
        return Matrix(context, ours[0], ours[1], challenge, doors).run()
    finally:
        for group in ours:
            started.remove(group)
        stop_all(ours)  # newest first: each nginx before its web


def _end_to_end(context: Context, started: list[Group], info: RunInfo) -> list[E2eRun]:
    """A landing gunicorn that keeps its access log: the 202s it sent are the promises.

    A failure here is reported, not raised: the matrix before it (minutes of runs) is kept.
    """
    if context.params.signups <= 0:
        return []
    access_log = context.log_dir / "e2e-access.log"
    with access_log.open("a") as sink:
        web = start_web(LANDING, "web-e2e", context.stores, context.log_dir, access_log=sink)
    started.append(web)
    e2e = EndToEnd(context, web, access_log)
    reps: list[E2eRun] = []
    for repetition in range(context.params.repeat):
        try:
            reps.append(e2e.run())
        except Exception as error:
            info.e2e_error = f"repetition {repetition}: {error!r}"
            print(f"bench: e2e failed, {info.e2e_error}", flush=True)
            break
        print(_progress_line(repetition, reps[-1]), flush=True)
    return reps


def _journey(context: Context, started: list[Group], info: RunInfo) -> dict | None:
    """The journey with its BENCH_JOURNEY_* / BENCH_BACKLOG_SECONDS settings. A failure is
    reported, not raised: the phases before it are kept."""
    try:
        return journey.measure(context, journey.parse([]), started)
    except Exception as error:
        info.journey_error = repr(error)
        print(f"bench: journey failed, {info.journey_error}", flush=True)
        return None


def _progress_line(repetition: int, rep: E2eRun) -> str:
    return (
        f"bench: e2e rep={repetition}: accepted {rep.accepted}, rows {rep.rows}, "
        f"missing {rep.missing}, ingest {rep.ingest_rps}/s, persisted during load "
        f"{rep.persisted_during_load_rps}/s, drain {rep.drain_rps}/s, "
        f"stack {rep.total_cpu_ms_per_row} ms CPU/row"
    )


def _background_busy(seconds: float = 3.0) -> float:
    """Busy cores while nothing of ours runs: other processes' load, i.e. our noise."""
    meter = CpuMeter({}).start()
    time.sleep(seconds)
    return meter.stop()["machine_busy_cores"]


if __name__ == "__main__":
    sys.exit(main())
