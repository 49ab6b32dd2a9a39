"""Three RabbitMQ nodes of our own, clustered (the `cluster-leader-killed` drill runs on them).

cluster-a, -b and -c@localhost (own ports and directories); b and c join a. A quorum
queue needs a majority, so killing one of three leaves it working. The shared node
rabbit@localhost is never joined. `destroy` stops every node and deletes its directory.
"""

import json
import threading
from pathlib import Path

from harness.procs import alive
from harness.rabbit import RabbitNode

# RabbitNode methods a Cluster answers through its first live node.
FORWARDED = frozenset({"ctl", "add_vhost", "delete_vhost", "in_flight", "unacked", "queues"})


class Cluster:
    """The three nodes; CLI questions go to the first node that is alive."""

    def __init__(self, root: Path) -> None:
        self.nodes = [RabbitNode(f"cluster-{letter}", root) for letter in "abc"]

    def start(self) -> None:
        """Boot the three at once (each takes ~5-10 s), then join b and c to a."""
        errors: list[Exception] = []
        threads = [threading.Thread(target=_start, args=(n, errors)) for n in self.nodes]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        seed = self.nodes[0].node
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", seed)
            node.ctl("start_app")
            node.ctl("await_startup", timeout=120)

    def url(self, vhost: str) -> str:
        """RABBITMQ_URL for the app: every node, comma-separated."""
        return ",".join(node.url(vhost) for node in self.nodes)

    def live(self) -> RabbitNode:
        """The first node that is up (a killed one is skipped)."""
        return next(n for n in self.nodes if n.pid is not None and alive(n.pid))

    def probe_url(self, vhost: str) -> str:
        """Where the harness looks at queues: a node that is up."""
        return self.live().url(vhost)

    def __getattr__(self, name: str):
        """The CLI's questions and vhost changes (FORWARDED) go to a node that is up; the
        cluster shares its vhosts and queues, so any live node answers for all."""
        if name in FORWARDED:
            return getattr(self.live(), name)
        raise AttributeError(name)

    def host_of(self, vhost: str, queue: str) -> tuple[RabbitNode, str]:
        """The node leading queue (a quorum queue's leader, a classic queue's home), and
        the queue's type."""
        rows = self.live().queues(vhost, "type", "leader", "pid")
        kind, leader, pid = next(r[1:] for r in rows if r[0] == queue)
        name = leader.strip() or pid.strip("<").split(".")[0]
        return next(n for n in self.nodes if n.node == name), kind

    def running(self) -> int:
        """How many nodes the cluster itself says are running."""
        status = json.loads(self.ctl("cluster_status", "--formatter", "json"))
        return len(status.get("running_nodes", []))

    def destroy(self) -> None:
        """Every node stopped (or killed) and its directory deleted."""
        for node in self.nodes:
            node.destroy()


def _start(node: RabbitNode, errors: list[Exception]) -> None:
    try:
        node.start()
    except Exception as error:
        errors.append(error)
