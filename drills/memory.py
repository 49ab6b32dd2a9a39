"""Peak resident memory of the workers during a drill, sampled from /proc.

Each second, the VmRSS of a worker's master and every child it has right now, summed: a
worker restarted by the supervisor is followed, and a backlog held in a worker's memory
(Retries keeps delayed messages unacked there until their eta) shows as growth.
"""

import threading
from collections.abc import Callable

from bench.procs import rss_mib

EVERY_S = 1.0


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
