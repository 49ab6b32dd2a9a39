"""The real app against the private stores: gunicorn and two dramatiq workers, supervised.

A process that dies (the dramatiq master exits when one of its children is killed) is
started again after a second, as compose's `restart: unless-stopped` would, and the
restart is recorded: a drill reports how often it needed one.
"""

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from bench import services as bench_services
from bench.config import Stores
from bench.stack import LANDING, Group, answers, web_command, worker_command
from drills.util import wait_until
from tests.support.services import free_port

RESTART_DELAY = 1.0  # seconds, like compose's first restart
WORKERS = {
    # The registrations path on one process of 8 threads; the attempt log apart and niced (as in
    # the benchmark) so the slow stand-in never holds back a PostgreSQL thread.
    "worker-registrations": ["--queues", "registrations", "--processes", "1", "--threads", "8"],
    "worker-attempts": ["--queues", "attempts", "--processes", "1", "--threads", "2"],
}


@dataclass
class Restart:
    """A supervised process that exited on its own and was started again."""

    process: str
    at_s: float  # seconds since the app was started
    exit_code: int | None


class Supervised:
    """One command that is started again whenever it exits without being asked to."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path, nice=False):
        self.name, self.command, self.env, self.log_dir, self.nice = (
            name,
            command,
            env,
            log_dir,
            nice,
        )
        self.group = self._spawn()

    def _spawn(self) -> Group:
        return Group(self.name, self.command, self.env, self.log_dir, nice=self.nice)

    def exited(self) -> int | None:
        """Its exit code if it has exited (None while it runs)."""
        return self.group.process.poll()

    def respawn(self) -> None:
        """The old process reaped (its group killed), a new one started."""
        self.group.stop(5)  # reaps it and SIGKILLs anything it left in its group
        self.group = self._spawn()

    def stop(self) -> None:
        """SIGTERM (graceful), SIGKILL after 20 s."""
        self.group.stop(20)


class AppStack:
    """web + workers with one environment; `restarts` lists what the supervisor did."""

    def __init__(self, stores: Stores, amqp_url: str, log_dir: Path, **extra: str) -> None:
        self.stores, self.amqp_url, self.log_dir = stores, amqp_url, log_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra = extra
        self.processes: dict[str, Supervised] = {}
        self.restarts: list[Restart] = []
        self._stopping = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    def env(self, **more: str) -> dict[str, str]:
        """The app's environment: our stores, development mode, PUBLISH_TIMEOUT=2."""
        return self.stores.child_env(
            APP_ENV="development", PUBLISH_TIMEOUT="2", WEB_WORKERS="2", **self.extra, **more
        )

    def start(self) -> None:
        """Start everything; return once /health answers and both queues have consumers."""
        env = self.env(WEB_BIND=f"127.0.0.1:{self.port}")
        self.processes["web"] = Supervised("web", web_command(LANDING), env, self.log_dir)
        for name, args in WORKERS.items():
            env = self.env(WORKER_METRICS_PORT=str(free_port()))
            command = worker_command(*args)
            nice = name == "worker-attempts"
            self.processes[name] = Supervised(name, command, env, self.log_dir, nice)
        self._thread.start()
        self.wait_healthy(90)

    def wait_healthy(self, timeout: float) -> None:
        """/health answers and a worker consumes each queue; RuntimeError at the deadline."""
        if not wait_until(lambda: answers(self.url + "/health"), timeout):
            raise RuntimeError("the web did not answer /health")
        for queue in bench_services.QUEUES:
            consumed = wait_until(lambda q=queue: self._consumers(q) > 0, timeout)
            if not consumed:
                raise RuntimeError(f"no worker consumes {queue}")

    def _consumers(self, queue: str) -> int:
        return bench_services.queue_state(self.amqp_url, queue)[1]

    def worker_children(self) -> list[int]:
        """The registrations worker's child processes (its workers and its metrics fork)."""
        return self.processes["worker-registrations"].group.children()

    def worker_trees(self) -> dict[str, list[int]]:
        """Each worker's master and its children, as they are right now."""
        return {
            name: [process.group.pid, *process.group.children()]
            for name, process in self.processes.items()
            if name in WORKERS
        }

    def _supervise(self) -> None:
        while not self._stopping.wait(0.5):
            for name, process in self.processes.items():
                code = process.exited()
                if code is None or self._stopping.is_set():
                    continue
                at = round(time.monotonic() - self._started, 1)
                self.restarts.append(Restart(name, at, code))
                time.sleep(RESTART_DELAY)
                if not self._stopping.is_set():
                    process.respawn()

    def stop(self) -> None:
        """Stop supervising, then the workers, then the web (never one failure skipping)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(10)
        for process in reversed(list(self.processes.values())):
            try:
                process.stop()
            except Exception as error:
                print(f"drills: stopping {process.name} failed: {error!r}", flush=True)
