"""`make drills` / `python -m drills`: every fault drill, then the table.

Knobs (environment): DRILL_DURATION (s of load, default 20), DRILL_CLIENTS (16),
DRILL_RATE (new sign-ups/s, 120), DRILL_ONLY (comma-separated drill names),
DRILL_DRAIN_TIMEOUT (s, 180), DRILL_LONG_OUTAGE_S (s PostgreSQL is stopped in
postgres-down-long, 600), DRILL_LONG_RATE (its new sign-ups/s, 300).
Results: results/drills-<UTC timestamp>/ (git-ignored).
Exit status 1 if any drill fails, a shared service stopped answering, or a phone number
shows up in the results; 130 when interrupted (after tearing everything down).
"""

import os
import re
import sys
import time
from pathlib import Path

from drills import report
from drills.drill import Knobs
from drills.env import Fault
from drills.faults import FAULTS
from drills.lab import Lab
from drills.overlaps import OVERLAPS, long_outage
from drills.report import Check, RunInfo
from harness import cleanup
from harness.local import ROOT, run
from harness.reports import command, machine, now_utc, results_dir


def knobs_from_env() -> Knobs:
    """The DRILL_* environment variables, or the defaults."""
    env = os.environ
    return Knobs(
        duration=float(env.get("DRILL_DURATION", 20)),
        clients=int(env.get("DRILL_CLIENTS", 16)),
        rate=float(env.get("DRILL_RATE", 120)),
        drain_timeout=float(env.get("DRILL_DRAIN_TIMEOUT", 180)),
        long_outage_s=float(env.get("DRILL_LONG_OUTAGE_S", 600)),
        long_rate=float(env.get("DRILL_LONG_RATE", 300)),
    )


def drills(knobs: Knobs) -> tuple[Fault, ...]:
    """Every drill in the order `make drills` runs them: the long one last."""
    # The backlog of a long outage drains in well under the outage itself (README: a few
    # thousand rows/s from a backlog), so the outage bounds its drain.
    drain_s = max(knobs.drain_timeout, knobs.long_outage_s)
    long = long_outage(knobs.long_outage_s, knobs.long_rate, drain_s)
    return (*FAULTS, *OVERLAPS, long)


def selected(knobs: Knobs) -> list[Fault]:
    """DRILL_ONLY's drills in the usual order, or all of them; unknown names are an error."""
    every = drills(knobs)
    wanted = [n.strip() for n in os.environ.get("DRILL_ONLY", "").split(",") if n.strip()]
    unknown = sorted(set(wanted) - {fault.name for fault in every})
    if unknown:
        names = ", ".join(fault.name for fault in every)
        raise SystemExit(f"drills: unknown drill {', '.join(unknown)} (known: {names})")
    return [fault for fault in every if not wanted or fault.name in wanted]


def main() -> int:
    """Run the drills against private services, always tear down, write and print results."""
    cleanup.install()
    knobs = knobs_from_env()
    faults = selected(knobs)
    folder = results_dir("drills-")
    info = RunInfo(now_utc(), command("DRILL_", "make drills", "python -m drills"), machine(), "")
    started, results, interrupted = time.monotonic(), [], None
    try:
        _run_all(faults, knobs, folder, info, results)
    except (KeyboardInterrupt, SystemExit) as stop:  # still write what we have
        interrupted = stop
        print(f"drills: interrupted ({type(stop).__name__}); tearing down", flush=True)
    finally:
        cleanup.run_all()  # every fault undone, every private service gone
    info.duration_s = round(time.monotonic() - started, 1)
    info.shared_services = shared_services()
    info.phone_like_strings = phone_like_strings(folder)
    print(report.write(folder, info, results), flush=True)
    print(f"drills: results in {folder.relative_to(ROOT)}/", flush=True)
    if info.phone_like_strings:
        print("drills: phone-number-like strings found in the results: check the logs", flush=True)
    clean = info.phone_like_strings == 0 and all(c.passed for c in info.shared_services)
    if interrupted is not None:
        return 130
    return 0 if results and clean and all(r.passed for r in results) else 1


def _run_all(faults: list[Fault], knobs: Knobs, folder: Path, info: RunInfo, results: list):
    lab = Lab(folder / "logs", knobs)
    info.settings = lab.describe()
    lab.start()
    for index, fault in enumerate(faults):
        print(f"drills: {fault.name} ...", flush=True)
        results.append(lab.drill(fault, index))
        print(f"drills: {fault.name}: " + " | ".join(report.row(results[-1])[1:]), flush=True)


def phone_like_strings(folder: Path) -> int:
    """How many 09xxxxxxxxx numbers the logs hold (the app masks them; this proves it)."""
    pattern = re.compile(rb"(?<![0-9a-f-])09[0-9]{9}(?![0-9a-f])")
    return sum(len(pattern.findall(p.read_bytes())) for p in folder.rglob("*") if p.is_file())


def shared_services() -> list[Check]:
    """The machine's own services still answer: we must not have disturbed them."""
    probes = {
        "PostgreSQL (pg_isready -h 127.0.0.1)": ["pg_isready", "-h", "127.0.0.1"],
        "Redis (redis-cli ping)": ["redis-cli", "ping"],
        "RabbitMQ (rabbitmqctl -q status)": ["rabbitmqctl", "-q", "status"],
    }
    checks = []
    for name, probe in probes.items():
        try:
            run(probe, 60)
            checks.append(Check(name, True, "answers"))
        except RuntimeError as error:
            checks.append(Check(name, False, str(error)[:200]))
    return checks


if __name__ == "__main__":
    sys.exit(main())
