"""The app under test, supervised: gunicorn and both workers, each started again when it dies.

A process that exits on its own (the dramatiq master exits when one of its children is
killed) is started again after a second, as compose's `restart: unless-stopped` would,
and the restart is recorded: a drill reports how often it needed one.
"""

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.local import free_port
from harness.processes import Group, stop_all
from harness.stack import LANDING, NICED, wait_healthy, web_command, worker_commands, worker_env
from harness.stores import Stores

RESTART_DELAY = 1.0  # seconds, like compose's first restart
PUBLISH_TIMEOUT = 2.0  # seconds: what the app is started with, and what drills hold it to
# The registrations path on one process of 8 threads; the attempt log apart and niced.
WORKER_PROCESSES, WORKER_THREADS = 1, 8


@dataclass
class Restart:
    """A supervised process that exited on its own and was started again."""

    process: str
    at_s: float  # seconds since the app was started
    exit_code: int | None


class Supervised:
    """One command that is started again whenever it exits without being asked to."""

    def __init__(self, name: str, command: list[str], env: dict, log_dir: Path) -> None:
        self.name, self.command, self.env, self.log_dir = name, command, env, log_dir
        self.group = self._spawn()

    def _spawn(self) -> Group:
        return Group(self.name, self.command, self.env, self.log_dir, nice=self.name in NICED)

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
        self.extra = {"PUBLISH_TIMEOUT": f"{PUBLISH_TIMEOUT:g}", "WEB_WORKERS": "2", **extra}
        self.processes: dict[str, Supervised] = {}
        self.restarts: list[Restart] = []
        self._stopping = threading.Event()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._supervise, name="supervisor", daemon=True)

    def start(self) -> None:
        """Start everything; return once /health answers and both queues have consumers."""
        env = self.stores.child_env(WEB_BIND=f"127.0.0.1:{self.port}", **self.extra)
        self.processes["web"] = Supervised("web", web_command(LANDING), env, self.log_dir)
        workers = worker_commands(WORKER_PROCESSES, WORKER_THREADS)
        for name, command in workers.items():
            env = worker_env(self.stores, **self.extra)
            self.processes[name] = Supervised(name, command, env, self.log_dir)
        self._thread.start()
        wait_healthy(self.url, self.amqp_url, 90)

    def worker_children(self) -> list[int]:
        """The registrations worker's child processes (its workers and its metrics fork)."""
        return self.processes["worker-registrations"].group.children()

    def worker_trees(self) -> dict[str, list[int]]:
        """Each worker's master and its children, as they are right now."""
        return {
            name: [process.group.pid, *process.group.children()]
            for name, process in self.processes.items()
            if name != "web"
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
        stop_all(list(self.processes.values()))
