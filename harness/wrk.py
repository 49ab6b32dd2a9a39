"""The benchmark's load: wrk, driven through harness/post.lua, which prints one JSON line
we parse."""

import json
import os
import resource
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "post.lua"

MARKER = "BENCH_JSON "
THREAD_DONE = "BENCH_THREAD_DONE"


@dataclass
class LoadRun:
    """One wrk run, in requests/s and milliseconds."""

    seconds: float
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non2xx: int
    status_4xx: int
    status_5xx: int
    socket_errors: int
    errors: dict[str, int]
    wrk_cpu_s: float
    non202: int  # responses other than 202 (a refused challenge solution is a 403)
    unsolved: int  # requests sent without a solution: the run's ran out (challenge only)

    @property
    def answered(self) -> int:
        """Responses with a 2xx status."""
        return self.requests - self.non2xx

    @property
    def accepted_rps(self) -> float:
        """202s per second: sign-ups accepted."""
        return round((self.requests - self.non202) / self.seconds, 1) if self.seconds else 0.0


@dataclass
class Phones:
    """Hands each wrk run a phone-number offset past every number used before."""

    threads: int
    next_offset: int = 0

    def take(self) -> int:
        """The offset for the next run."""
        return self.next_offset

    def used(self, sent_max: int) -> None:
        """Move past a run whose busiest thread sent sent_max requests."""
        # Thread i sends offset + k * threads + i for k < its own count of requests.
        self.next_offset += (sent_max + 1) * self.threads


class Wrk:
    """One wrk run against url's POST /api/register/ (use a new one for each run)."""

    def __init__(
        self, url: str, connections: int, threads: int, phones: Phones, limit: int = 0,
        rate: float = 0.0, solutions: Path | None = None,
    ):  # fmt: skip
        self.url, self.connections, self.threads, self.phones = url, connections, threads, phones
        self.limit = limit  # > 0: stop after this many responses in all (end-to-end)
        self.rate = rate  # > 0: open loop, this many requests/s in all (the soak)
        # Solved challenges, one per line, each sent once (bench/solutions.py writes them).
        self.solutions = solutions
        self.process: subprocess.Popen | None = None
        self._lines: list[str] = []
        self._threads_done = 0
        self._rusage = resource.getrusage(resource.RUSAGE_CHILDREN)

    def command(self, seconds: int) -> list[str]:
        """wrk's command line for a run of that many seconds."""
        # --timeout past PUBLISH_TIMEOUT, so a 503 from the app is seen as a 503.
        return [
            "wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds}s",
            "--timeout", "5s", "-s", str(LUA), self.url + "/api/register/",
        ]  # fmt: skip

    def env(self) -> dict[str, str]:
        """wrk's environment: what harness/post.lua reads (offset, threads, per-thread limit
        and rate, the solutions' file)."""
        per_thread = -(-self.limit // self.threads) if self.limit else 0
        return {
            **os.environ,
            "BENCH_PHONE_OFFSET": str(self.phones.take()),
            "BENCH_THREADS": str(self.threads),
            "BENCH_LIMIT": str(per_thread),
            "BENCH_RATE": f"{self.rate / self.threads:.3f}",
            "BENCH_SOLUTIONS": str(self.solutions or ""),
        }

    def start(self, seconds: int) -> subprocess.Popen:
        """Start wrk in the background; a reader thread watches for the Lua's stop lines."""
        self._rusage = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk's CPU, once reaped
        self.process = subprocess.Popen(
            self.command(seconds), stdout=subprocess.PIPE, text=True, env=self.env()
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        return self.process

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.append(line)
            if line.startswith(THREAD_DONE):
                self._threads_done += 1
                if self._threads_done == self.threads:
                    # wrk's main thread sleeps out -d; SIGINT ends it with a summary.
                    self.process.send_signal(signal.SIGINT)

    def finish(self, timeout: float) -> LoadRun:
        """Wait for wrk and return its summary, in requests/s and milliseconds."""
        try:
            self.process.wait(timeout)
        finally:
            self.kill()  # only if it is still running: a timeout, or we were interrupted
        self._reader.join(5)
        raw = read_summary(self._lines)
        self.phones.used(raw["sent_max"])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        wrk_cpu = (after.ru_utime - self._rusage.ru_utime) + (
            after.ru_stime - self._rusage.ru_stime
        )
        return summarise(raw, wrk_cpu)

    def kill(self) -> None:
        """End wrk if it still runs (the e2e one would otherwise run -d 3600 on its own)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def run(self, seconds: int) -> LoadRun:
        """One wrk run in the foreground."""
        self.start(seconds)
        return self.finish(seconds + 60)


def read_summary(lines: list[str]) -> dict:
    """The JSON line harness/post.lua printed among wrk's output; RuntimeError if none."""
    line = next((x for x in lines if x.startswith(MARKER)), None)
    if line is None:
        raise RuntimeError("wrk printed no summary:\n" + "".join(lines[-20:]))
    return json.loads(line.removeprefix(MARKER))


def summarise(raw: dict, wrk_cpu: float) -> LoadRun:
    """What the report needs from one wrk run."""
    seconds = raw["duration_us"] / 1e6
    latency = {key: value / 1000 for key, value in raw["latency_us"].items()}
    errors = raw["errors"]
    return LoadRun(
        seconds=round(seconds, 3), requests=raw["requests"],
        rps=round(raw["requests"] / seconds, 1),
        p50_ms=latency["p50"], p90_ms=latency["p90"], p99_ms=latency["p99"],
        max_ms=latency["max"], mean_ms=round(latency["mean"], 3),
        non2xx=raw["non2xx"], status_4xx=raw["status_4xx"], status_5xx=raw["status_5xx"],
        # wrk's own "status" error is a 4xx/5xx answer, counted above already.
        socket_errors=sum(v for k, v in errors.items() if k != "status"),
        errors=errors, wrk_cpu_s=round(wrk_cpu, 3), non202=raw["non202"],
        unsolved=raw["unsolved"],
    )  # fmt: skip
