"""The stack under test: gunicorn (production config) and the two dramatiq workers.

Each runs in its own process group, so stopping it can never leave a forked worker behind.
"""

import contextlib
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

from bench import procs, services
from bench.config import BIN, METRICS_PORT_VARIABLE, ROOT, Context, Stores
from tests.support.services import free_port, standin_command, wait_for, wait_for_mongo

LANDING = "landing:create_app()"
# The MongoDB log (its worker and the stand-in) runs on cores nothing else wants: the
# stand-in costs far more CPU per document than mongod would, and it must never gate the
# PostgreSQL numbers. Its CPU is still measured; its backlog drains later.
NICEST = 19
WORKER_THREADS = "32"  # docker-compose.yml's default; processes: one per core, as there
BARE = "bench.bare:create_app()"


class Group:
    """One command in a process group of its own, logging to a file."""

    def __init__(
        self, name: str, command: list[str], env: dict, log_dir: Path, stdout=None, nice=False
    ):
        self.name = name
        self.url: str | None = None  # set for web servers
        self.log = (log_dir / f"{name}.log").open("a")
        out = self.log if stdout is None else stdout
        if nice:
            command = ["nice", "-n", str(NICEST), *command]
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=self.log, start_new_session=True
        )
        if nice:
            _nice_session(self.pid)

    @property
    def pid(self) -> int:
        """The leader's pid, which is also the process group's id."""
        return self.process.pid

    def children(self) -> list[int]:
        """Every live process below the leader (gunicorn's or dramatiq's workers)."""
        return procs.descendants(self.pid)

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM the leader (gunicorn and dramatiq shut their workers down), then make sure."""
        if self.process.poll() is None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)  # anything the leader left behind
        self.process.wait()
        self.log.close()


def _nice_session(pid: int) -> None:
    """Where the kernel groups each session's CPU (sched_autogroup, on here), nice counts only
    inside the session: the new session itself must be niced to yield to the others."""
    with contextlib.suppress(OSError):  # no autogroup: the nice command alone does it
        Path(f"/proc/{pid}/autogroup").write_text(str(NICEST))


def web_command(app: str) -> list[str]:
    """gunicorn with the production settings, serving app (LANDING or BARE)."""
    return [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", app]


def worker_command(*args: str) -> list[str]:
    """The workers' entry point, with dramatiq's options (queues, processes, threads)."""
    return [str(BIN / "dramatiq"), "actors.worker", *args]


def start_web(
    app: str, name: str, stores: Stores, log_dir: Path, access_log=None, processes: int = 0
) -> Group:
    """gunicorn -c gunicorn.conf.py on a free port; returns once /health answers.

    The access log (stdout) costs what it costs in production, but we keep it only when
    asked (end-to-end counts the 202s the server sent); otherwise it goes to /dev/null.
    processes: gunicorn's worker processes (WEB_WORKERS); 0 keeps the setting's one per core.
    """
    port = free_port()
    env = stores.child_env(WEB_BIND=f"127.0.0.1:{port}")
    if processes:
        env["WEB_WORKERS"] = str(processes)
    stdout = access_log if access_log is not None else subprocess.DEVNULL
    group = Group(name, web_command(app), env, log_dir, stdout=stdout)
    group.url = f"http://127.0.0.1:{port}"
    _wait(lambda: answers(group.url + "/health"), 60, f"{name} did not answer /health")
    return group


def answers(url: str) -> bool:
    """True when a GET of url answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def _wait(predicate, timeout: float, failure: str) -> None:
    try:
        wait_for(predicate, timeout, interval=0.2)
    except AssertionError:
        raise RuntimeError(failure) from None


def start_workers(stores: Stores, log_dir: Path, processes: int = 0) -> list[Group]:
    """The registrations worker (compose's defaults) and a small one for the MongoDB log,
    at the lowest CPU priority.

    The attempt log has its own worker so the slow stand-in can never hold back a thread
    that PostgreSQL's queue needs. processes: the registrations worker's (0: dramatiq's
    default, one per core). Returns once both queues have consumers.
    """
    sized = ["--processes", str(processes)] if processes else []
    commands = {
        "worker-registrations": ["--queues", "registrations", "--threads", WORKER_THREADS, *sized],
        "worker-attempts": ["--queues", "attempts", "--processes", "1", "--threads", "2"],
    }
    groups = []
    for name, args in commands.items():
        env = stores.child_env(**{METRICS_PORT_VARIABLE: str(free_port())})
        nice = name == "worker-attempts"
        groups.append(Group(name, worker_command(*args), env, log_dir, nice=nice))
    for queue in services.QUEUES:
        _wait(
            lambda queue=queue: services.queue_state(stores.rabbitmq_url, queue)[1] > 0,
            60,
            f"no worker consumes {queue}",
        )
    return groups


def start_mongo_standin(context: Context) -> Group:
    """The stand-in at the lowest CPU priority, like the attempt log's worker."""
    url = context.stores.mongo_url
    command = standin_command(url)
    group = Group("mongo-standin", command, dict(os.environ), context.log_dir, nice=True)
    wait_for_mongo(url)
    return group


def start_support(context: Context) -> list[Group]:
    """Our stores prepared, the services' CPU watched, the MongoDB stand-in if it is ours:
    what every phase needs before the first web server starts."""
    services.prepare(context.stores)
    context.also_watch.update(procs.service_roots())
    if not context.stores.mongo_is_ours:
        return []
    standin = start_mongo_standin(context)
    context.also_watch["mongo-standin"] = standin.pid
    return [standin]


def stop_all(groups: list) -> None:
    """Stop every group, workers first, and never let one failure skip the others."""
    for group in reversed(groups):
        try:
            group.stop()
        except Exception as error:  # keep stopping the rest
            print(f"bench: stopping {group.name} failed: {error!r}")
