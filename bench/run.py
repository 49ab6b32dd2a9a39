"""`make bench`: the real stack on this machine, measured with wrk, reported with medians.

Phases: (a)/(b)/(c) side by side at each concurrency, then end to end (N sign-ups until
PostgreSQL holds them all). Results go to results/<UTC timestamp>/ and results/latest.
"""

import os
import signal
import sys
import time

from bench import output, procs, services
from bench.config import ROOT, Context, make_stores, parse_params
from bench.e2e import EndToEnd
from bench.matrix import Matrix
from bench.stack import BARE, LANDING, Group, start_web, stop_all


def main(argv: list[str] | None = None) -> int:
    """Run every phase, always stop what we started, then write and print the report."""
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, so the finally below still runs.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    context = Context(parse_params(argv), make_stores(), output.results_dir() / "logs")
    context.log_dir.mkdir()
    started: list[Group] = []
    info = output.run_info(context)
    try:
        services.prepare(context.stores)
        context.also_watch.update(procs.service_roots())
        if context.stores.mongo_is_ours:
            started.append(_mongo_standin(context))
            context.also_watch["mongo-standin"] = started[-1].pid
        info["background_busy_cores_before"] = _background_busy()
        runs = _matrix(context, started)
        e2e_runs = _end_to_end(context, started, info)
    finally:
        stop_all(started)
    info["background_busy_cores_after"] = _background_busy()
    info["loadavg_after"] = output.loadavg()
    results = output.assemble(info, context, runs, e2e_runs)
    print(output.write(context.log_dir.parent, results))
    print(f"bench: results in {context.log_dir.parent.relative_to(ROOT)}/ (and results/latest)")
    return 0


def _matrix(context: Context, started: list[Group]) -> list[dict]:
    """Both servers up for the whole matrix; workers come and go with scenario (c)."""
    web = {}
    for name, app in (("bare", BARE), ("landing", LANDING)):
        web[name] = start_web(app, f"web-{name}", context.stores, context.log_dir)
        started.append(web[name])
    try:
        return Matrix(context, web).run()
    finally:
        stop_all([started.pop(), started.pop()][::-1])


def _end_to_end(context: Context, started: list[Group], info: dict) -> list[dict]:
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
    reps = []
    for repetition in range(context.params.repeat):
        try:
            rep = e2e.run()
        except Exception as error:
            info["e2e_error"] = f"repetition {repetition}: {error!r}"
            print(f"bench: e2e failed, {info['e2e_error']}", flush=True)
            break
        reps.append(rep)
        print(
            f"bench: e2e rep={repetition}: accepted {rep['accepted']}, rows {rep['rows']}, "
            f"missing {rep['missing']}, ingest {rep['ingest_rps']}/s, persisted during load "
            f"{rep['persisted_during_load_rps']}/s, drain {rep['drain_rps']}/s",
            flush=True,
        )
    return reps


def _mongo_standin(context: Context) -> Group:
    url = context.stores.mongo_url
    script = str(ROOT / "scripts" / "mongo_standin.py")
    command = [sys.executable, script, url]
    group = Group("mongo-standin", command, dict(os.environ), context.log_dir, nice=True)
    services.wait_for_mongo(url)
    return group


def _background_busy(seconds: float = 3.0) -> float:
    """Busy cores while nothing of ours runs: other engineers' load, i.e. our noise."""
    busy, wall = procs.machine_busy_seconds()
    time.sleep(seconds)
    busy_after, wall_after = procs.machine_busy_seconds()
    return round((busy_after - busy) / (wall_after - wall), 2)


if __name__ == "__main__":
    sys.exit(main())
