"""Our own processes started as the Procfile and compose start them: gunicorn and the workers.

Each runs in a child process with the tests' settings in its environment and is stopped
(and waited for) when its `with` block ends.
"""

import json
import random
import socket
import subprocess
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.config import BIN, child_environment
from tests.support.services import ROOT, wait_for
from tests.support.signups import attempt as support_attempt
from tests.support.signups import message_carrying

#: The workers' command, as the Procfile and compose run it.
WORKER = [str(BIN / "dramatiq"), "actors.worker"]


def listen_port() -> int:
    """A free port below the ephemeral range, so no outgoing connection takes it meanwhile."""
    for port in random.sample(range(20_000, 32_000), 200):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port below the ephemeral range")


def attempt(phone: str, request_id: str | None = None, **changes) -> dict:
    """A register message's body, as the web would send it."""
    body = support_attempt(
        phone, request_id=request_id or str(uuid.uuid4()), referrer=None, ip=None, user_agent=None
    )
    return {**body, **changes}


def enqueue_registration(broker, body: dict) -> None:
    broker.enqueue(message_carrying(body))


def http(url: str, body: dict | None = None, headers: dict | None = None):
    """(status, headers, text) of a GET, or of a JSON POST when body is given."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def answers(url: str) -> bool:
    try:
        return http(url)[0] == 200
    except OSError:
        return False


@dataclass
class Process:
    process: subprocess.Popen
    url: str
    output: Path
    errors: Path | None = None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.wait(timeout=60)


@contextmanager
def running_gunicorn(tmp_path: Path, *args: str, env: dict | None = None):
    """gunicorn with gunicorn.conf.py (as Procfile and compose run it) on a free port."""
    port = listen_port()
    output, errors = tmp_path / "gunicorn.out", tmp_path / "gunicorn.err"
    with output.open("w") as stdout, errors.open("w") as stderr:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", *args, "landing:create_app()"],
            cwd=ROOT,
            stdout=stdout,
            stderr=stderr,
            env=child_environment(**(env or {})),
        )
        web = Process(process, f"http://127.0.0.1:{port}", output, errors)
        try:
            wait_for(lambda: answers(f"{web.url}/health"), timeout=30)
            yield web
        finally:
            web.stop()


@contextmanager
def running_worker(
    tmp_path: Path, processes: int = 2, queues: tuple[str, ...] = (), env: dict | None = None
):
    """The workers as compose runs them (on queues alone, if given), metrics on a free port,
    env on top of the tests' settings; stopped at the end."""
    port = listen_port()
    log = tmp_path / f"worker-{'-'.join(queues) or 'all'}.log"
    command = [*WORKER, "--processes", str(processes), "--threads", "2"]
    if queues:
        command += ["--queues", *queues]
    with log.open("w") as output:
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=child_environment(
                WORKER_METRICS_HOST="127.0.0.1", WORKER_METRICS_PORT=str(port), **(env or {})
            ),
        )
        worker = Process(process, f"http://127.0.0.1:{port}/metrics", log)
        try:
            yield worker
        finally:
            worker.stop()
