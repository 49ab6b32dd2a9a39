"""Where a run's results go, what they say about the run itself, and writing them."""

import json
import os
import sys
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import report, summary
from bench.config import ROOT, Context

RESULTS = ROOT / "results"  # git-ignored


def results_dir() -> Path:
    """results/<UTC timestamp>/, created; results/latest will point at it."""
    folder = RESULTS / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder.mkdir(parents=True)
    return folder


def run_info(context: Context) -> dict:
    """Date, command, machine, server settings: what the README quotes beside the numbers."""
    from actors.settings import load

    web = load(context.stores.child_env())
    workers = web.web_workers or os.cpu_count()
    params = context.params
    return {
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": _command(),
        "machine": _machine(),
        "web": f"gunicorn -c gunicorn.conf.py: {workers} gevent workers"
        f" x {web.web_connections} connections",
        "wrk_threads": params.threads,
        "repeat": params.repeat,
        "duration_s": params.duration,
        "warmup_s": params.warmup,
        "signups": params.signups,
        "e2e_concurrency": params.e2e_concurrency,
        "mongo": "mongoeco stand-in" if context.stores.mongo_is_ours else "MONGO_URL",
        "loadavg_before": loadavg(),
    }


def _command() -> str:
    settings = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith("BENCH_")]
    runner = ["make bench"] if "MAKELEVEL" in os.environ else ["python -m bench.run", *sys.argv[1:]]
    return " ".join(settings + runner)


def _machine() -> str:
    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    model = next((line.split(":", 1)[1].strip() for line in cpuinfo if "model name" in line), "?")
    memory_kib = int(Path("/proc/meminfo").read_text().split()[1])
    debian = Path("/etc/debian_version").read_text().strip()
    return f"{os.cpu_count()} cores ({model}), {memory_kib / 2**20:.0f} GiB, Debian {debian}"


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def assemble(info: dict, context: Context, runs: list[dict], e2e_runs: list[dict]) -> dict:
    """Every run, the medians, and the targets: everything results.json keeps."""
    cells = summary.matrix_medians(runs)
    ratios = summary.paired_ratios(runs)
    drains = summary.drain_medians(runs)
    e2e = summary.e2e_medians(e2e_runs) if e2e_runs else None
    return {
        "run": info,
        "params": asdict(context.params),
        "matrix": cells,
        "ratios": ratios,
        "drain": drains,
        "e2e": e2e,
        "memory": context.memory.summary(),
        "targets": summary.targets(runs, cells, ratios, drains, e2e, e2e_runs),
        "runs": runs,
        "e2e_runs": e2e_runs,
    }


def write(folder: Path, results: dict) -> str:
    """results.json, summary.md, throughput.png, and results/latest -> folder."""
    (folder / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    page = report.markdown(results)
    (folder / "summary.md").write_text(page)
    report.plot(results, folder / "throughput.png")
    latest = RESULTS / "latest"
    temporary = RESULTS / ".latest.tmp"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(folder.name)
    temporary.replace(latest)  # atomic: a reader never sees latest missing
    return page
