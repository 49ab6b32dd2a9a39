"""Small shared helpers: run a command, wait for a condition, signal a set of processes."""

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable

from bench.config import ROOT
from bench.procs import descendants


def run(command: list[str], timeout: float = 60, check: bool = True, env=None) -> str:
    """The command's stdout; raises RuntimeError with its stderr when it fails (if check)."""
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{command[0]} {command[1:3]} timed out after {timeout} s") from None
    if check and done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-400:]
        raise RuntimeError(f"{' '.join(command[:4])} ... failed ({done.returncode}): {tail}")
    return done.stdout


def wait_until(predicate: Callable[[], object], timeout: float, every: float = 0.2):
    """predicate()'s first truthy value, or None once timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while True:
        value = _quietly(predicate)
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(every)


def _quietly(predicate: Callable[[], object]) -> object:
    # A probe that raises (service still down) is simply a "not yet".
    try:
        return predicate()
    except Exception:
        return None


def tree(pid: int) -> list[int]:
    """pid and every process below it."""
    return [pid, *descendants(pid)]


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
