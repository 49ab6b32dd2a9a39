"""Undo actions that always run: on return, on an exception, on Ctrl-C, SIGTERM or at exit.

Whatever a run starts or breaks registers how to take it back here; `run_all` runs
the actions newest first, each at most once, and one failing never skips the others.
"""

import atexit
import signal
import sys
import threading
from collections.abc import Callable
from itertools import count

_actions: dict[int, tuple[str, Callable[[], None]]] = {}
_keys = count()
_lock = threading.Lock()


def add(label: str, action: Callable[[], None]) -> int:
    """Remember action until `done(key)` or `run_all()`; returns its key."""
    with _lock:
        key = next(_keys)
        _actions[key] = (label, action)
    return key


def done(key: int) -> None:
    """Run one action now (if it has not run yet) and forget it."""
    with _lock:
        entry = _actions.pop(key, None)
    if entry is not None:
        _run(*entry)


def run_all() -> None:
    """Every remembered action, newest first."""
    while True:
        with _lock:
            if not _actions:
                return
            entry = _actions.pop(max(_actions))
        _run(*entry)


def _run(label: str, action: Callable[[], None]) -> None:
    try:
        action()
    except BaseException as error:  # teardown goes on whatever one step does
        print(f"harness: cleanup '{label}' failed: {error!r}", file=sys.stderr, flush=True)


def install() -> None:
    """SIGTERM and SIGHUP unwind like Ctrl-C (so every `finally` runs); at exit, run_all."""

    def _unwind(signum: int, _frame) -> None:
        raise SystemExit(128 + signum)

    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _unwind)
    atexit.register(run_all)
