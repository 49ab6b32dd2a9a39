"""RabbitMQ nodes of our own, beside the machine's shared node, which they never join or touch.

Each node has its own name, ports, config, env file, data and logs in a directory owned
by the rabbitmq user. The Debian wrappers (`rabbitmq-server`, `rabbitmqctl`) switch from
root to the rabbitmq user, whose home holds the Erlang cookie, so our nodes and the CLI
share that cookie. The shared node rabbit@localhost is never named here.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote

from harness.local import free_port, run, wait_until
from harness.procs import alive, signal_all, tree

CONF_ENV = (
    'ERL_EPMD_ADDRESS=127.0.0.1\nexport ERL_FLAGS="-kernel inet_dist_use_interface {127,0,0,1}"\n'
)
START_SECONDS = 120


class RabbitNode:
    """One node, e.g. drill-a@localhost, listening for AMQP on 127.0.0.1:<free port>."""

    def __init__(self, name: str, root: Path) -> None:
        self.node = f"{name}@localhost"
        self.dir = root / f"rabbitmq-{name}"
        self.amqp_port, self.dist_port = free_port(), free_port()
        self.pid: int | None = None  # beam.smp, known once started

    def url(self, vhost: str) -> str:
        """An AMQP URL for guest on vhost at this node."""
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/{quote(vhost, safe='')}"

    def probe_url(self, vhost: str) -> str:
        """Where the harness itself looks at queues: the same node."""
        return self.url(vhost)

    def start(self) -> None:
        """Boot the node (same directory every time, so durable data survives)."""
        self._write_files()
        env = {**os.environ, **self._variables()}
        subprocess.run(["rabbitmq-server", "-detached"], env=env, check=True, timeout=60)
        self.await_startup()

    def await_startup(self) -> None:
        """Return once the node runs its applications; learn its beam.smp pid."""
        # await_startup fails at once while the node is not in epmd yet: wait for it first.
        if not wait_until(self._distribution_listens, START_SECONDS, every=0.5):
            raise RuntimeError(f"{self.node} did not start (log in {self.dir}/log)")
        self.ctl("await_startup", timeout=START_SECONDS)
        self.pid = int(self.ctl("eval", "os:getpid().").strip().strip('"'))

    def _distribution_listens(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.dist_port), timeout=1):
            return True

    def _variables(self) -> dict[str, str]:
        d = self.dir
        return {
            "RABBITMQ_NODENAME": self.node,
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_CONFIG_FILE": str(d / "rabbitmq.conf"),
            "RABBITMQ_CONF_ENV_FILE": str(d / "rabbitmq-env.conf"),
            "RABBITMQ_MNESIA_BASE": str(d / "mnesia"),
            "RABBITMQ_LOG_BASE": str(d / "log"),
            "RABBITMQ_PID_FILE": str(d / "node.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(d / "enabled_plugins"),
        }

    def _write_files(self) -> None:
        if self.dir.exists():
            return
        short = self.node.split("@")[0]
        if f"name {short} at port" in run(["epmd", "-names"], 10, check=False):
            # A node of this name left by a run that was killed outright: ours, but we
            # would rather say so than stop something on our own.
            raise RuntimeError(f"{self.node} already runs: `rabbitmqctl -n {self.node} stop`")
        self.dir.mkdir(parents=True)
        # The machine's /etc/rabbitmq/rabbitmq.conf pins 5672: ours names our port.
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.amqp_port}\n"
        )
        (self.dir / "rabbitmq-env.conf").write_text(CONF_ENV)
        (self.dir / "enabled_plugins").write_text("[].\n")
        for path in [self.dir, *self.dir.iterdir()]:
            shutil.chown(path, "rabbitmq", "rabbitmq")

    def ctl(self, *args: str, timeout: float = 60) -> str:
        """rabbitmqctl -n <this node>; its stdout, RuntimeError if it fails."""
        return run(["rabbitmqctl", "-n", self.node, "-q", *args], timeout)

    def stop(self) -> None:
        """`rabbitmqctl stop`, then wait for beam.smp to exit (SIGKILL if it will not)."""
        with contextlib.suppress(RuntimeError):
            self.ctl("stop")
        if self.pid is not None and not wait_until(lambda: not alive(self.pid), 60):
            self.kill()

    def kill(self) -> None:
        """SIGKILL beam.smp and its helpers: the node dies without a word."""
        if self.pid is not None:
            signal_all(tree(self.pid), signal.SIGKILL)
            wait_until(lambda: not alive(self.pid), 10)

    def freeze_targets(self) -> list[int]:
        """beam.smp and its children: stopped, the node accepts TCP and never speaks AMQP."""
        return tree(self.pid)

    def destroy(self) -> None:
        """Thaw, stop (by name too: a boot that timed out left no pid), delete the directory."""
        if self.pid is not None:
            signal_all(tree(self.pid), signal.SIGCONT)
        if self.dir.exists():
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    # Broker state, read with the CLI (it sees unacked messages; AMQP does not).

    def add_vhost(self, vhost: str) -> None:
        """The vhost, with guest allowed everything."""
        self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")

    def delete_vhost(self, vhost: str) -> None:
        """The vhost and every queue in it gone."""
        self.ctl("delete_vhost", vhost)

    def queues(self, vhost: str, *columns: str) -> list[list[str]]:
        """One row per queue: name, then the columns asked for."""
        out = self.ctl("list_queues", "-p", vhost, "name", *columns, "--no-table-headers")
        return [line.split("\t") for line in out.splitlines() if line.strip()]

    def in_flight(self, vhost: str, prefix: str) -> int:
        """Messages ready or unacked in every queue named prefix, prefix.DQ (not .XQ)."""
        names = {prefix, f"{prefix}.DQ"}
        rows = self.queues(vhost, "messages_ready", "messages_unacknowledged")
        return sum(int(r[1]) + int(r[2]) for r in rows if r[0] in names)

    def unacked(self, vhost: str, name: str) -> int:
        """Messages a consumer holds unacked in queue name."""
        rows = self.queues(vhost, "messages_unacknowledged")
        return sum(int(r[1]) for r in rows if r[0] == name)

    def memory_alarm(self) -> bool:
        """True while this node reports a memory alarm."""
        out = run(["rabbitmq-diagnostics", "-n", self.node, "-q", "alarms"], 60)
        return "memory" in out.lower() and "no alarms" not in out.lower()
