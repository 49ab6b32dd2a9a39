"""What a process tree costs, read from /proc: CPU seconds and peak resident memory."""

import os
from dataclasses import dataclass
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process on the machine right now."""
    tree: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry.name))[1])
        except (OSError, ValueError, IndexError):
            continue  # it exited while we looked
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    """Every live process below root (gunicorn's or dramatiq's workers)."""
    tree, found, todo = children_map(), [], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


SERVICES = {"rabbitmq": "beam.smp", "redis": "redis-server", "postgresql": "postgres"}


def _comm(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def service_roots() -> dict[str, int]:
    """The top process of each local service (lowest pid whose parent is something else).

    Their CPU during a run is ours plus whatever other runs on the machine asked of them.
    """
    roots = {}
    for parent, children in sorted(children_map().items()):
        parent_comm = _comm(parent)
        for child in sorted(children):
            for name, comm in SERVICES.items():
                if name not in roots and _comm(child) == comm and parent_comm != comm:
                    roots[name] = child
    return roots


def cpu_seconds(root: int) -> float:
    """CPU time of root and everything below it, including children already reaped.

    utime+stime+cutime+cstime summed over the live tree counts each tick once: a worker
    gunicorn recycled (max_requests) moved its ticks into the master's cutime when reaped.
    """
    ticks = 0
    for pid in [root, *descendants(root)]:
        try:
            values = _stat_fields(pid)
        except OSError:
            continue
        ticks += sum(int(value) for value in values[11:15])
    return ticks / TICK


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM (the process's peak resident set) in MiB; None once the process is gone."""
    return _status_mib(pid, "VmHWM:")


def rss_mib(pid: int) -> float | None:
    """VmRSS (the process's resident set now) in MiB; None once the process is gone."""
    return _status_mib(pid, "VmRSS:")


def _status_mib(pid: int, key: str) -> float | None:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def machine_busy_seconds() -> tuple[float, float]:
    """(busy CPU seconds of all cores, wall-clock seconds) since boot, from /proc/stat.

    Deltas of these tell how much of the machine was busy during a run, ours or not (the
    cores are shared with whatever else runs on the machine).
    """
    values = [int(v) for v in (PROC / "stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    uptime = float((PROC / "uptime").read_text().split()[0])
    return (sum(values[:8]) - idle) / TICK, uptime


@dataclass
class CpuMeter:
    """CPU seconds used by some process trees between start() and stop()."""

    roots: dict[str, int]

    def start(self) -> "CpuMeter":
        """Note every tree's CPU seconds, and the machine's, as they are now."""
        self._before = {name: cpu_seconds(pid) for name, pid in self.roots.items()}
        self._machine = machine_busy_seconds()
        return self

    def stop(self) -> dict[str, float | None]:
        """Seconds per tree (None if its root restarted meanwhile), plus `machine_busy_cores`:
        how many of all cores were busy on average, with anyone's work."""
        used: dict[str, float | None] = {}
        for name, pid in self.roots.items():
            alive = (PROC / str(pid)).exists()
            used[name] = round(cpu_seconds(pid) - self._before[name], 3) if alive else None
        busy, wall = machine_busy_seconds()
        elapsed = max(wall - self._machine[1], 1e-6)
        used["machine_busy_cores"] = round((busy - self._machine[0]) / elapsed, 2)
        return used


@dataclass
class RolePeak:
    """Peak resident memory of the processes seen in one role (MiB)."""

    processes: int
    max_mib: float
    median_mib: float


class PeakMemory:
    """The highest VmHWM seen per process, grouped by role (web-landing, worker-...).

    Read after every run: a process gone later (a recycled or stopped worker) keeps its peak.
    """

    def __init__(self) -> None:
        self.peaks: dict[str, dict[int, float]] = {}

    def observe(self, role: str, pids: list[int]) -> None:
        """Note each pid's peak so far under role."""
        seen = self.peaks.setdefault(role, {})
        for pid in pids:
            peak = peak_rss_mib(pid)
            if peak is not None:
                seen[pid] = max(peak, seen.get(pid, 0.0))

    def summary(self) -> dict[str, RolePeak]:
        """Per role: processes seen, the largest peak and the median peak."""
        result = {}
        for role, seen in self.peaks.items():
            values = sorted(seen.values())
            middle = values[len(values) // 2]
            result[role] = RolePeak(len(values), round(values[-1], 1), round(middle, 1))
        return result
