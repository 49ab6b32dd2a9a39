"""One command in a process group of its own, logging to a file, and stopping many.

A group can never leave a forked worker behind: stopping it SIGKILLs what is left of it.
"""

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from harness.local import ROOT
from harness.procs import descendants

# The MongoDB log (its worker and the stand-in) runs on cores nothing else wants: the
# stand-in costs far more CPU per document than mongod would, and it must never gate the
# PostgreSQL numbers. Its CPU is still measured; its backlog drains later.
NICEST = 19


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
        return descendants(self.pid)

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


def stop_all(groups: list) -> None:
    """Stop every group, newest first, and never let one failure skip the others."""
    for group in reversed(groups):
        try:
            group.stop()
        except Exception as error:  # keep stopping the rest
            print(f"harness: stopping {group.name} failed: {error!r}", flush=True)
