"""The attempt log's MongoDB: the mongoeco stand-in behind a gate (drills/gate.py).

The app's MONGO_URL names the gate. `down()` kills the gate (MongoDB unreachable, the
documents kept), `up()` brings it back on the same port; `fresh()` replaces the stand-in
with an empty one, since it slows down as a collection grows.
"""

import os
import sys
from pathlib import Path

from pymongo import MongoClient

from bench import services as bench_services
from bench.stack import Group
from drills import cleanup
from drills.util import wait_until
from tests.support.services import free_port, standin_command, wait_for_mongo

DATABASE = "logs_drill"
SUCCESS = ("SUCCESS_POSTGRES", "DUPLICATE_DETECTED")


class MongoLog:
    """The stand-in (niced, as in the benchmark: it is CPU-hungry) and the gate before it."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.standin_port, self.gate_port = free_port(), free_port()
        self.standin: Group | None = None
        self.gate: Group | None = None
        cleanup.add("stop the MongoDB stand-in and its gate", self.stop)

    @property
    def url(self) -> str:
        """What the app uses: through the gate."""
        return f"mongodb://127.0.0.1:{self.gate_port}/{DATABASE}"

    @property
    def direct_url(self) -> str:
        """The stand-in itself, past the gate: what the harness reads."""
        return f"mongodb://127.0.0.1:{self.standin_port}/{DATABASE}"

    def fresh(self) -> None:
        """An empty stand-in and an open gate."""
        self.stop()
        command = standin_command(self.direct_url)
        self.standin = Group("mongo-standin", command, dict(os.environ), self.log_dir, nice=True)
        wait_for_mongo(self.direct_url)
        self.up()

    def up(self) -> None:
        """Open the gate; returns once MongoDB answers through it."""
        command = [sys.executable, "-m", "drills.gate", str(self.gate_port), str(self.standin_port)]
        self.gate = Group("mongo-gate", command, dict(os.environ), self.log_dir)  # cwd: ROOT
        wait_for_mongo(self.url)

    def down(self) -> None:
        """Close the gate: every connection reset, new ones refused."""
        if self.gate is not None:
            self.gate.stop(5)
            self.gate = None

    def stop(self) -> None:
        """Gate and stand-in stopped (the documents go with the stand-in)."""
        self.down()
        if self.standin is not None:
            self.standin.stop(10)
            self.standin = None

    def logged(self) -> set[str]:
        """request_ids whose history says the sign-up was stored (or was a duplicate)."""
        with MongoClient(self.direct_url, serverSelectionTimeoutMS=5000) as client:
            documents = client[DATABASE]["landing_attempts"].find(
                {}, {"request_id": 1, "history.status": 1, "_id": 0}
            )
            return {doc["request_id"] for doc in documents if _stored(doc)}

    def count(self) -> int | None:
        """Documents in the attempt log; None when it does not answer."""
        return bench_services.mongo_count(self.direct_url)

    def ready(self) -> bool:
        """True when the stand-in answers within 5 s."""
        return bool(wait_until(lambda: self.count() is not None, 5))


def _stored(document: dict) -> bool:
    return any(entry.get("status") in SUCCESS for entry in document.get("history", []))
