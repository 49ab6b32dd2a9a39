"""The app under test: gunicorn (production config) and the two dramatiq workers.

The registrations worker is compose's (processes: one per core, 32 threads) unless told
otherwise; the attempt log has a small worker of its own, niced, so the slow MongoDB
stand-in can never hold back a thread that PostgreSQL's queue needs.
"""

import subprocess
import urllib.request
from pathlib import Path

from harness.local import BIN, free_port, wait_until
from harness.processes import Group, stop_all
from harness.queues import QUEUES, queue_state
from harness.stores import METRICS_PORT_VARIABLE, Stores

LANDING = "landing:create_app()"
WORKER_THREADS = 32  # docker-compose.yml's default
NICED = frozenset({"worker-attempts"})


def web_command(app: str) -> list[str]:
    """gunicorn with the production settings, serving app (LANDING, or another WSGI app)."""
    return [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", app]


def worker_command(*args: str) -> list[str]:
    """The workers' entry point, with dramatiq's options (queues, processes, threads)."""
    return [str(BIN / "dramatiq"), "actors.worker", *args]


def worker_commands(processes: int = 0, threads: int = WORKER_THREADS) -> dict[str, list[str]]:
    """Each worker's command: registrations with processes (0: dramatiq's default, one per
    core) x threads, and the attempt log's 1 x 2."""
    sized = ["--processes", str(processes)] if processes else []
    return {
        "worker-registrations": worker_command(
            "--queues", "registrations", "--threads", str(threads), *sized
        ),
        "worker-attempts": worker_command(
            "--queues", "attempts", "--processes", "1", "--threads", "2"
        ),
    }


def worker_env(stores: Stores, **extra: str) -> dict[str, str]:
    """A worker's environment: every `dramatiq` run forks a metrics server, on a port of its own."""
    return stores.child_env(**{METRICS_PORT_VARIABLE: str(free_port())}, **extra)


def answers(url: str) -> bool:
    """True when a GET of url answers 200 within a second."""
    try:
        with urllib.request.urlopen(url, timeout=1) as answer:
            return answer.status == 200
    except OSError:
        return False


def wait_healthy(web_url: str | None, amqp_url: str, timeout: float) -> None:
    """/health answers (if a web is given) and a worker consumes each queue; RuntimeError
    at the deadline."""
    if web_url is not None and not wait_until(lambda: answers(web_url + "/health"), timeout):
        raise RuntimeError(f"the web at {web_url} did not answer /health")
    for queue in QUEUES:
        if not wait_until(lambda q=queue: queue_state(amqp_url, q)[1] > 0, timeout):
            raise RuntimeError(f"no worker consumes {queue}")


def start_web(
    app: str, name: str, stores: Stores, log_dir: Path, access_log=None, processes: int = 0,
    env: dict[str, str] | None = None,
) -> Group:  # fmt: skip
    """gunicorn -c gunicorn.conf.py on a free port; returns once /health answers.

    The access log is off, as in production behind nginx (WEB_ACCESS_LOG); given a sink
    for it (end-to-end counts the 202s the server sent), it is on and written there.
    processes: gunicorn's worker processes (WEB_WORKERS); 0 keeps the setting's one per core.
    env: settings on top of the stores' (e.g. CHALLENGE_MODE).
    """
    port = free_port()
    settings = stores.child_env(WEB_BIND=f"127.0.0.1:{port}", **(env or {}))
    if processes:
        settings["WEB_WORKERS"] = str(processes)
    if access_log is not None:
        settings["WEB_ACCESS_LOG"] = "on"
    stdout = access_log if access_log is not None else subprocess.DEVNULL
    group = Group(name, web_command(app), settings, log_dir, stdout=stdout)
    group.url = f"http://127.0.0.1:{port}"
    if not wait_until(lambda: answers(group.url + "/health"), 60):
        raise RuntimeError(f"{name} did not answer /health")
    return group


def spawn_workers(stores: Stores, log_dir: Path, processes: int = 0) -> list[Group]:
    """Both workers (worker_commands), each in its own process group, just launched."""
    return [
        Group(name, command, worker_env(stores), log_dir, nice=name in NICED)
        for name, command in worker_commands(processes).items()
    ]


def start_workers(stores: Stores, log_dir: Path, processes: int = 0) -> list[Group]:
    """spawn_workers, returning once both queues have consumers."""
    groups = spawn_workers(stores, log_dir, processes)
    try:
        wait_healthy(None, stores.rabbitmq_url, 60)
    except BaseException:
        stop_all(groups)
        raise
    return groups
