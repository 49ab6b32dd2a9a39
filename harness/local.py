"""This machine: the repository and its venv, free ports, running a command, waiting."""

import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv's gunicorn, dramatiq and flask


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
