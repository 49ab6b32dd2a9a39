"""The benchmark's parameters and the isolated stores it points the stack at."""

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from bench.procs import PeakMemory
from tests.support.services import free_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = ROOT / "bench" / "post.lua"
NAMESPACE = "landing_bench"  # PostgreSQL database and RabbitMQ vhost
REDIS_DB = 9
# wrk comes from one address; the app's per-IP limit would otherwise be all we measure.
RATE_LIMIT = "100000000/minute"
# Every `dramatiq` run forks a metrics server on this port; two at once would collide.
METRICS_PORT_VARIABLE = "WORKER_METRICS_PORT"


@dataclass(frozen=True)
class Params:
    """How long and how hard each phase loads the stack."""

    duration: int = 20  # seconds per wrk run
    repeat: int = 3  # runs per scenario and concurrency; we quote medians
    concurrency: tuple[int, ...] = (64, 256)
    signups: int = 20_000  # end-to-end sign-ups per repetition
    threads: int = 2  # wrk threads
    warmup: int = 2  # seconds of unmeasured load before each run (connections, caches)
    e2e_concurrency: int = 64
    drain_timeout: float = 120.0  # seconds to wait for PostgreSQL to catch up after load


def parse_params(argv: list[str] | None = None) -> Params:
    """Flags win over BENCH_* environment variables, which win over the defaults."""
    return params_from(parser("python -m bench.run").parse_args(argv))


def parser(prog: str, description: str | None = None) -> argparse.ArgumentParser:
    """The flags every phase takes, defaulting to their BENCH_* environment variables."""
    env = os.environ
    found = argparse.ArgumentParser(prog=prog, description=description or __doc__)
    found.add_argument("--duration", type=int, default=int(env.get("BENCH_DURATION", 20)))
    found.add_argument("--repeat", type=int, default=int(env.get("BENCH_REPEAT", 3)))
    found.add_argument("--concurrency", default=env.get("BENCH_CONCURRENCY", "64,256"))
    found.add_argument("--signups", type=int, default=int(env.get("BENCH_SIGNUPS", 20_000)))
    return found


def params_from(args: argparse.Namespace) -> Params:
    """Params from what parser() parsed."""
    levels = tuple(int(level) for level in args.concurrency.split(",") if level.strip())
    return Params(
        duration=args.duration,
        repeat=args.repeat,
        concurrency=levels,
        signups=args.signups,
        warmup=min(2, max(1, args.duration // 5)),
    )


@dataclass(frozen=True)
class Stores:
    """Where every child process of the benchmark keeps its data: never a developer's."""

    database_url: str = f"postgresql://postgres@127.0.0.1:5432/{NAMESPACE}"
    rabbitmq_url: str = f"amqp://guest:guest@127.0.0.1:5672/{NAMESPACE}"
    redis_url: str = f"redis://127.0.0.1:6379/{REDIS_DB}"
    mongo_url: str = field(default_factory=lambda: os.environ.get("MONGO_URL", ""))

    @property
    def mongo_is_ours(self) -> bool:
        """No MONGO_URL given: we serve the stand-in (slow by design) on a free port."""
        return not os.environ.get("MONGO_URL")

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment for gunicorn and dramatiq: our stores, a limit wrk can't hit."""
        env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}"}
        env.update(
            APP_ENV="development",
            DATABASE_URL=self.database_url,
            MIGRATE_DATABASE_URL=self.database_url,
            RABBITMQ_URL=self.rabbitmq_url,
            REDIS_URL=self.redis_url,
            MONGO_URL=self.mongo_url,
            RATE_LIMIT=RATE_LIMIT,
        )
        env.update(extra)
        return env


def make_stores() -> Stores:
    """Stores with MONGO_URL, or a free local port for the stand-in."""
    stores = Stores()
    if stores.mongo_is_ours:
        stores = Stores(mongo_url=f"mongodb://127.0.0.1:{free_port()}/logs_bench")
    return stores


@dataclass
class Context:
    """What every phase of a benchmark run shares."""

    params: Params
    stores: Stores
    log_dir: Path
    memory: PeakMemory = field(default_factory=PeakMemory)
    # Process trees whose CPU we report beside ours, e.g. the MongoDB stand-in.
    also_watch: dict[str, int] = field(default_factory=dict)
