"""Process trees, read from /proc, and signals sent to them."""

import contextlib
import os
import signal
from pathlib import Path

PROC = Path("/proc")


def stat_fields(pid: int) -> list[str]:
    """/proc/<pid>/stat after the command name (which may hold spaces and parentheses)."""
    text = (PROC / str(pid) / "stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def status_value(pid: int, key: str) -> str | None:
    """The first value on /proc/<pid>/status's line for key (e.g. "Threads"); None if the
    process is gone or has no such line."""
    try:
        lines = (PROC / str(pid) / "status").read_text().splitlines()
    except OSError:
        return None
    return next((line.split()[1] for line in lines if line.startswith(key + ":")), None)


def children_map() -> dict[int, list[int]]:
    """Parent pid -> child pids, for every process on the machine right now."""
    tree: dict[int, list[int]] = {}
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int(stat_fields(int(entry.name))[1])
        except (OSError, ValueError, IndexError):
            continue  # it exited while we looked
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def descendants(root: int) -> list[int]:
    """Every live process below root (gunicorn's or dramatiq's workers)."""
    tree, found, todo = children_map(), [], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def tree(pid: int) -> list[int]:
    """pid and every process below it."""
    return [pid, *descendants(pid)]


SERVICES = {"rabbitmq": "beam.smp", "redis": "redis-server", "postgresql": "postgres"}


def _comm(pid: int) -> str:
    try:
        return (PROC / str(pid) / "comm").read_text().strip()
    except OSError:
        return ""


def service_roots() -> dict[str, int]:
    """The top process of each local service (lowest pid whose parent is something else).

    Their CPU during a run is ours plus whatever other runs on the machine asked of them.
    """
    roots = {}
    for parent, children in sorted(children_map().items()):
        parent_comm = _comm(parent)
        for child in sorted(children):
            for name, comm in SERVICES.items():
                if name not in roots and _comm(child) == comm and parent_comm != comm:
                    roots[name] = child
    return roots


def signal_all(pids: list[int], signum: int) -> None:
    """Send signum to each pid that still exists."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def resume(pids: list[int]) -> None:
    """SIGCONT: what undoes every freeze, safe to send twice."""
    signal_all(pids, signal.SIGCONT)


def alive(pid: int) -> bool:
    """True while pid exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
