"""Plumbing on the local services: free ports, polling, RabbitMQ vhosts, MongoDB's stand-in.

Importing this starts nothing and imports neither landing nor actors.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pika
import pytest
from pymongo import MongoClient

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    """A TCP port nothing listens on right now (the kernel picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.05):
    """predicate()'s first truthy value; AssertionError once timeout seconds have passed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"gave up after {timeout}s waiting for {predicate.__name__}")


def rabbitmqctl(*args: str) -> None:
    """`rabbitmqctl -q <args>` on the local node; CalledProcessError if it fails."""
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def ensure_vhost(url: str) -> None:
    """Create the vhost url names, open to guest, if RabbitMQ refuses us on it."""
    try:
        pika.BlockingConnection(pika.URLParameters(url)).close()
    except pika.exceptions.ProbableAccessDeniedError:
        vhost = pika.URLParameters(url).virtual_host
        rabbitmqctl("add_vhost", vhost)
        rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")


def standin_command(url: str) -> list[str]:
    """The command serving the MongoDB-wire stand-in (mongoeco) at url."""
    return [sys.executable, str(ROOT / "scripts" / "mongo_standin.py"), url]


def wait_for_mongo(url: str, timeout: float = 30.0) -> None:
    """Return once MongoDB (or a stand-in) answers ping at url; RuntimeError if it does not."""
    with MongoClient(url, serverSelectionTimeoutMS=200) as client:
        try:
            wait_for(lambda: _pings(client), timeout)
        except AssertionError:
            raise RuntimeError(f"MongoDB did not answer at {url} within {timeout:.0f} s") from None


def _pings(client: MongoClient) -> bool:
    try:
        return bool(client.admin.command("ping"))
    except Exception:
        return False


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
