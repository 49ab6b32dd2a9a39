"""Where a run's results go and what they say about the run itself: the folder, the
machine, how the run was started, and its JSON."""

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from harness.local import ROOT

RESULTS = ROOT / "results"  # git-ignored


def results_dir(prefix: str = "") -> Path:
    """results/<prefix><UTC timestamp>/, created with its logs/ folder."""
    folder = RESULTS / (prefix + datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ"))
    (folder / "logs").mkdir(parents=True)
    return folder


def now_utc() -> str:
    """The date and time a report quotes, to the minute."""
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def command(prefix: str, make: str, module: str) -> str:
    """How this run was started, after the settings named prefix*: `make <target>` or
    `python -m <module> <arguments>`."""
    settings = [f"{k}={v}" for k, v in sorted(os.environ.items()) if k.startswith(prefix)]
    runner = [make] if "MAKELEVEL" in os.environ else [module, *sys.argv[1:]]
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


def table(header: list[str], rows: list[list], cell=str) -> list[str]:
    """A Markdown table's lines, each value written by cell."""
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    return lines + ["| " + " | ".join(map(cell, row)) + " |" for row in rows]


def write_json(path: Path, data: object) -> None:
    """data as indented JSON (what json cannot say, as its str), ending in a newline."""
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
