"""Private PostgreSQL 15 and Redis on free ports, in a directory of the caller's.

Never the machine's shared instances: those keep serving tests while drills break these
and benchmarks fill them. Whoever starts one registers its teardown (harness.cleanup, or a
`with`).
"""

import contextlib
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from harness.local import free_port, run, wait_until
from harness.procs import resume, signal_all, tree

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def as_postgres(*command: str) -> list[str]:
    """PostgreSQL refuses to run as root: its tools run as the postgres user."""
    return ["runuser", "-u", "postgres", "--", *command]


class PrivatePostgres:
    """A throwaway cluster: initdb, trust auth, 127.0.0.1:<free port>, data under root."""

    def __init__(self, root: Path, database: str) -> None:
        self.dir = root / "postgres"
        self.data = self.dir / "data"
        self.port, self.database = free_port(), database

    @property
    def url(self) -> str:
        """The app's URL for this instance."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{self.database}"

    def start(self) -> None:
        """initdb (first time) and start; returns once it accepts connections."""
        if not self.data.exists():
            self.dir.mkdir(parents=True)
            shutil.chown(self.dir, "postgres", "postgres")
            initdb = [str(PG_BIN / "initdb"), "-D", str(self.data), "-A", "trust"]
            run(as_postgres(*initdb, "-U", "postgres", "--no-sync", "-E", "UTF8"), 120)
        self._ctl("start", "-o", f"-p {self.port} -h 127.0.0.1 -k {self.dir}")

    def restart(self) -> None:
        """`pg_ctl restart -m fast`: sessions are cut, committed rows stay."""
        self._ctl("restart", "-m", "fast")

    def halt(self) -> None:
        """`pg_ctl stop -m fast`: PostgreSQL gone until start(), its data kept."""
        self._ctl("stop", "-m", "fast")

    def _ctl(self, *args: str) -> None:
        log = str(self.dir / "postgres.log")
        run(as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", log, "-w", *args))

    def pids(self) -> list[int]:
        """The postmaster and every backend and helper below it."""
        postmaster = int((self.data / "postmaster.pid").read_text().split()[0])
        return tree(postmaster)

    def ready(self) -> bool:
        """True when it answers right now."""
        command = [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)]
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return done.returncode == 0

    def stop(self) -> None:
        """Thaw (a drill may have frozen it), stop, delete the data directory."""
        with contextlib.suppress(Exception):
            resume(self.pids())
        with contextlib.suppress(Exception):
            self._ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    """redis-server as our child, keeping nothing on disk; `kill` then `start` is an outage.

    options: more redis-server arguments, e.g. ("--maxmemory", "4mb").
    """

    def __init__(self, root: Path, *options: str) -> None:
        self.dir = root / "redis"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port, self.options = free_port(), options
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """The app's URL for this instance."""
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, timeout: float = 5) -> redis.Redis:
        """A client of this instance (the caller closes it)."""
        return redis.Redis.from_url(self.url, socket_timeout=timeout)

    def start(self) -> None:
        """Start on our port (the same one after a kill); returns once it answers PING."""
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", str(self.dir)]
        with (self.dir / "redis.log").open("a") as log:
            self.process = subprocess.Popen([*command, *self.options], stdout=log, stderr=log)
        if not wait_until(self.ready, 20):
            raise RuntimeError("private Redis did not answer PING")

    def ready(self) -> bool:
        """True when it answers right now."""
        client = redis.Redis.from_url(self.url, socket_timeout=1, socket_connect_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: Redis gone at once, every key with it (it keeps nothing on disk)."""
        if self.process is not None and self.process.poll() is None:
            signal_all(tree(self.process.pid), signal.SIGCONT)
            self.process.kill()
            self.process.wait(10)
        time.sleep(0.1)  # the port is free again before anyone restarts it


@contextlib.contextmanager
def private_redis(*options: str) -> Iterator[PrivateRedis]:
    """A started PrivateRedis in a temp directory of its own, killed and removed afterwards."""
    root = Path(tempfile.mkdtemp(prefix="landing-redis-"))
    server = PrivateRedis(root, *options)
    try:
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)
