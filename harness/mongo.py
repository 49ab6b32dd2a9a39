"""The attempt log's MongoDB: the mongoeco stand-in, counting its documents, and the
drills' stand-in behind a gate (harness/gate.py).

MongoLog's app-facing URL names the gate. `down()` kills the gate (MongoDB unreachable, the
documents kept), `up()` brings it back on the same port; `fresh()` replaces the stand-in
with an empty one, since it slows down as a collection grows.
"""

import os
import sys
from pathlib import Path

from pymongo import MongoClient

from harness.local import ROOT, free_port, wait_until
from harness.processes import Group

ATTEMPTS_COLLECTION = "landing_attempts"
SUCCESS = ("SUCCESS_POSTGRES", "DUPLICATE_DETECTED")


def standin_command(url: str) -> list[str]:
    """The command serving the MongoDB-wire stand-in (mongoeco) at url."""
    return [sys.executable, str(ROOT / "scripts" / "mongo_standin.py"), url]


def wait_for_mongo(url: str, timeout: float = 30.0) -> None:
    """Return once MongoDB (or a stand-in) answers ping at url; RuntimeError if it does not."""
    with MongoClient(url, serverSelectionTimeoutMS=200) as client:
        if not wait_until(lambda: client.admin.command("ping"), timeout, every=0.05):
            raise RuntimeError(f"MongoDB did not answer at {url} within {timeout:.0f} s")


def start_standin(url: str, log_dir: Path) -> Group:
    """The stand-in at the lowest CPU priority (it is CPU-hungry); returns once it answers."""
    group = Group("mongo-standin", standin_command(url), dict(os.environ), log_dir, nice=True)
    wait_for_mongo(url)
    return group


def mongo_count(url: str) -> int | None:
    """Documents in the attempt log; None when MongoDB does not answer in time."""
    try:
        with MongoClient(url, serverSelectionTimeoutMS=5000, socketTimeoutMS=60_000) as client:
            return client.get_default_database()[ATTEMPTS_COLLECTION].count_documents({})
    except Exception:
        return None


class MongoLog:
    """The stand-in and the gate before it, on ports of their own."""

    def __init__(self, log_dir: Path, database: str) -> None:
        self.log_dir, self.database = log_dir, database
        self.standin_port, self.gate_port = free_port(), free_port()
        self.standin: Group | None = None
        self.gate: Group | None = None

    @property
    def url(self) -> str:
        """What the app uses: through the gate."""
        return f"mongodb://127.0.0.1:{self.gate_port}/{self.database}"

    @property
    def direct_url(self) -> str:
        """The stand-in itself, past the gate: what the harness reads."""
        return f"mongodb://127.0.0.1:{self.standin_port}/{self.database}"

    def fresh(self) -> None:
        """An empty stand-in and an open gate."""
        self.stop()
        self.standin = start_standin(self.direct_url, self.log_dir)
        self.up()

    def up(self) -> None:
        """Open the gate; returns once MongoDB answers through it."""
        command = [
            sys.executable,
            "-m",
            "harness.gate",
            str(self.gate_port),
            str(self.standin_port),
        ]
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
            documents = client[self.database][ATTEMPTS_COLLECTION].find(
                {}, {"request_id": 1, "history.status": 1, "_id": 0}
            )
            return {doc["request_id"] for doc in documents if _stored(doc)}

    def count(self) -> int | None:
        """Documents in the attempt log; None when it does not answer."""
        return mongo_count(self.direct_url)

    def ready(self) -> bool:
        """True when the stand-in answers within 5 s."""
        return bool(wait_until(lambda: self.count() is not None, 5))


def _stored(document: dict) -> bool:
    return any(entry.get("status") in SUCCESS for entry in document.get("history", []))
