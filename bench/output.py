"""Where a benchmark run's results go, what they say about the run itself, and writing them."""

import os
from pathlib import Path

from bench import report
from bench.config import Context
from bench.results import Results, RunInfo
from harness.reports import RESULTS, command, loadavg, machine, now_utc, write_json


def run_info(
    context: Context, make: str = "make bench", module: str = "python -m bench.run"
) -> RunInfo:
    """Date, command, machine, server settings: what the README quotes beside the numbers."""
    from landing.shared.settings import load

    web = load(context.stores.child_env())
    workers = web.web_workers or os.cpu_count()
    params = context.params
    return RunInfo(
        date_utc=now_utc(), command=command("BENCH_", make, module), machine=machine(),
        web=f"gunicorn -c gunicorn.conf.py: {workers} gevent workers"
        f" x {web.web_connections} connections",
        wrk_threads=params.threads, repeat=params.repeat, duration_s=params.duration,
        warmup_s=params.warmup, signups=params.signups, e2e_concurrency=params.e2e_concurrency,
        mongo="mongoeco stand-in" if context.stores.mongo_is_ours else "MONGO_URL",
        loadavg_before=loadavg(),
    )  # fmt: skip


def write(folder: Path, results: Results) -> str:
    """results.json, summary.md, throughput.png, and results/latest -> folder."""
    write_json(folder / "results.json", results.to_json())
    page = report.markdown(results)
    (folder / "summary.md").write_text(page)
    report.plot(results, folder / "throughput.png")
    latest = RESULTS / "latest"
    temporary = RESULTS / ".latest.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(folder.name)
    temporary.replace(latest)  # atomic: a reader never sees latest missing
    return page
