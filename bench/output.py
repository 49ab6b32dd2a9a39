"""Where a run's results go, what they say about the run itself, and writing them."""

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from bench import report
from bench.config import ROOT, Context
from bench.results import Results, RunInfo

RESULTS = ROOT / "results"  # git-ignored


def results_dir() -> Path:
    """results/<UTC timestamp>/, created; results/latest will point at it."""
    folder = RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True)
    return folder


def run_info(context: Context) -> RunInfo:
    """Date, command, machine, server settings: what the README quotes beside the numbers."""
    from landing.shared.settings import load

    web = load(context.stores.child_env())
    workers = web.web_workers or os.cpu_count()
    params = context.params
    return RunInfo(
        date_utc=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), command=_command(),
        machine=machine(),
        web=f"gunicorn -c gunicorn.conf.py: {workers} gevent workers"
        f" x {web.web_connections} connections",
        wrk_threads=params.threads, repeat=params.repeat, duration_s=params.duration,
        warmup_s=params.warmup, signups=params.signups, e2e_concurrency=params.e2e_concurrency,
        mongo="mongoeco stand-in" if context.stores.mongo_is_ours else "MONGO_URL",
        loadavg_before=loadavg(),
    )  # fmt: skip


def _command() -> str:
    settings = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_")]
    runner = ["make bench"] if "MAKELEVEL" in os.environ else ["python -m bench.run", *sys.argv[1:]]
    return " ".join(settings + runner)


def machine() -> str:
    """Cores, CPU model, memory and Debian release of this machine, in one line."""
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    debian = Path("/etc/debian_version").read_text().strip()
    return f"{os.cpu_count()} cores ({model}), {memory_kib / 2**20:.0f} GiB, Debian {debian}"


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, as /proc/loadavg has them."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def write(folder: Path, results: Results) -> str:
    """results.json, summary.md, throughput.png, and results/latest -> folder."""
    data = results.to_json()
    (folder / "results.json").write_text(json.dumps(data, indent=2, default=str) + "\n")
    page = report.markdown(results)
    (folder / "summary.md").write_text(page)
    report.plot(results, folder / "throughput.png")
    latest = RESULTS / "latest"
    temporary = RESULTS / ".latest.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(folder.name)
    temporary.replace(latest)  # atomic: a reader never sees latest missing
    return page
