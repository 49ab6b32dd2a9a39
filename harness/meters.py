"""What process trees cost, read from /proc: CPU seconds and resident memory.

PeakMemory reads each process's own high-water mark (VmHWM) after a run; PeakRss samples
the VmRSS of whole trees each second, so a worker restarted meanwhile is followed and a
backlog held in a worker's memory (Retries keeps delayed messages unacked there until
their eta) shows as growth.
"""

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

from harness.procs import PROC, descendants, stat_fields, status_value

TICK = os.sysconf("SC_CLK_TCK")
EVERY_S = 1.0  # PeakRss's sampling interval


def cpu_seconds(root: int) -> float:
    """CPU time of root and everything below it, including children already reaped.

    utime+stime+cutime+cstime summed over the live tree counts each tick once: a worker
    gunicorn recycled (max_requests) moved its ticks into the master's cutime when reaped.
    """
    ticks = 0
    for pid in [root, *descendants(root)]:
        try:
            values = stat_fields(pid)
        except OSError:
            continue
        ticks += sum(int(value) for value in values[11:15])
    return ticks / TICK


def peak_rss_mib(pid: int) -> float | None:
    """VmHWM (the process's peak resident set) in MiB; None once the process is gone."""
    return _status_mib(pid, "VmHWM")


def rss_mib(pid: int) -> float | None:
    """VmRSS (the process's resident set now) in MiB; None once the process is gone."""
    return _status_mib(pid, "VmRSS")


def _status_mib(pid: int, key: str) -> float | None:
    kib = status_value(pid, key)
    return None if kib is None else int(kib) / 1024


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


class PeakRss:
    """A thread sampling each named process tree; `peaks` holds the highest sums, MiB."""

    def __init__(self, trees: Callable[[], dict[str, list[int]]]) -> None:
        self.trees = trees  # name -> the pids to sum, looked up afresh at each sample
        self.peaks: dict[str, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="peak-rss", daemon=True)

    def start(self) -> "PeakRss":
        """Begin sampling (once now, then every EVERY_S seconds)."""
        self._thread.start()
        return self

    def stop(self) -> dict[str, float]:
        """One last sample, then the peaks, rounded to 0.1 MiB."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)
        self.sample()
        return {name: round(peak, 1) for name, peak in self.peaks.items()}

    def sample(self) -> None:
        """Note the sum of each tree's VmRSS, if it beats that tree's peak."""
        try:
            trees = self.trees()
        except Exception:  # a process being restarted: the next look finds it
            return
        for name, pids in trees.items():
            total = sum(rss or 0.0 for rss in map(rss_mib, pids))
            if total:
                self.peaks[name] = max(total, self.peaks.get(name, 0.0))

    def _run(self) -> None:
        while True:
            self.sample()
            if self._stop.wait(EVERY_S):
                return
