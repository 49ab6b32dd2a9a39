"""Plumbing on the local services: polling, MongoDB's stand-in, a service's control command.

Free ports, RabbitMQ vhosts and private services come from harness/ (which bench and drills
run on too). Importing this starts nothing and imports neither landing nor actors.
"""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness.mongo import standin_command, wait_for_mongo

ROOT = Path(__file__).resolve().parents[2]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """predicate()'s first truthy value; AssertionError once timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up after {timeout}s waiting for {predicate.__name__}")


class MongoStandIn:
    """The stand-in in a child process, so a caller can take MongoDB away and back."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it; returns once it answers ping."""
        self.process = subprocess.Popen(standin_command(self.url))
        wait_for_mongo(self.url)

    def stop(self) -> None:
        """SIGTERM it and wait for it to exit (nothing to do if it is not running)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def control(*command: str) -> None:
    """A service's own control command (rabbitmqctl, pg_ctlcluster...); on a machine without
    it, skip the test, but in CI fail: CI must be able to stop and start services."""
    if shutil.which(command[0]) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{command[0]} is missing; CI must be able to stop and start services")
        pytest.skip(f"{command[0]} is not installed here")
    subprocess.run(command, check=True, capture_output=True, timeout=120)
