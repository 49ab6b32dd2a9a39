"""The benchmark's parameters, the isolated stores it points the stack at, and what every
phase shares (Context, start_support)."""

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

from harness.local import free_port
from harness.meters import PeakMemory
from harness.mongo import start_standin
from harness.processes import Group
from harness.procs import service_roots
from harness.stores import Stores, prepare

NAMESPACE = "landing_bench"  # PostgreSQL database and RabbitMQ vhost
REDIS_DB = 9


@dataclass(frozen=True)
class Params:
    """How long and how hard each phase loads the stack."""

    duration: int = 20  # seconds per wrk run
    repeat: int = 3  # runs per scenario and concurrency; we quote medians
    concurrency: tuple[int, ...] = (64, 256, 1024)
    signups: int = 20_000  # end-to-end sign-ups per repetition
    threads: int = 2  # wrk threads
    warmup: int = 2  # seconds of unmeasured load before each run (connections, caches)
    e2e_concurrency: int = 64
    drain_timeout: float = 120.0  # seconds to wait for PostgreSQL to catch up after load
    # The phases `python -m bench.run` runs (BENCH_SCENARIOS); one left out is not measured,
    # so its targets FAIL rather than pass unseen.
    scenarios: tuple[str, ...] = ("matrix", "e2e", "journey")


PHASES = ("matrix", "e2e", "journey")


def parse_params(argv: list[str] | None = None) -> Params:
    """Flags win over BENCH_* environment variables, which win over the defaults."""
    return params_from(parser("python -m bench.run").parse_args(argv))


def parser(prog: str, description: str | None = None) -> argparse.ArgumentParser:
    """The flags every phase takes, defaulting to their BENCH_* environment variables."""
    env = os.environ
    found = argparse.ArgumentParser(prog=prog, description=description or __doc__)
    found.add_argument("--duration", type=int, default=int(env.get("BENCH_DURATION", 20)))
    found.add_argument("--repeat", type=int, default=int(env.get("BENCH_REPEAT", 3)))
    found.add_argument("--concurrency", default=env.get("BENCH_CONCURRENCY", "64,256,1024"))
    found.add_argument("--signups", type=int, default=int(env.get("BENCH_SIGNUPS", 20_000)))
    found.add_argument(
        "--scenarios", default=env.get("BENCH_SCENARIOS", ",".join(PHASES)),
        help=f"comma-separated, of {', '.join(PHASES)}",
    )  # fmt: skip
    return found


def params_from(args: argparse.Namespace) -> Params:
    """Params from what parser() parsed."""
    levels = tuple(int(level) for level in args.concurrency.split(",") if level.strip())
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    if unknown := set(scenarios) - set(PHASES):
        raise SystemExit(f"BENCH_SCENARIOS: unknown {sorted(unknown)}; known: {PHASES}")
    return Params(
        duration=args.duration,
        repeat=args.repeat,
        concurrency=levels,
        signups=args.signups,
        warmup=min(2, max(1, args.duration // 5)),
        scenarios=scenarios,
    )


def make_stores() -> Stores:
    """The shared services, on our own database, vhost and Redis db; MONGO_URL, or the
    stand-in we serve on a free port when none is given.

    BENCH_NAMESPACE and BENCH_REDIS_DB move them, so a second benchmark on the machine
    (a smoke run beside a full one) never empties the other's stores.
    """
    mongo_url = os.environ.get("MONGO_URL", "")
    namespace = os.environ.get("BENCH_NAMESPACE") or NAMESPACE
    redis_db = int(os.environ.get("BENCH_REDIS_DB") or REDIS_DB)
    return Stores(
        database_url=f"postgresql://postgres@127.0.0.1:5432/{namespace}",
        rabbitmq_url=f"amqp://guest:guest@127.0.0.1:5672/{namespace}",
        redis_url=f"redis://127.0.0.1:6379/{redis_db}",
        mongo_url=mongo_url or f"mongodb://127.0.0.1:{free_port()}/logs_bench",
        mongo_is_ours=not mongo_url,
    )


@dataclass
class Context:
    """What every phase of a benchmark run shares."""

    params: Params
    stores: Stores
    log_dir: Path
    memory: PeakMemory = field(default_factory=PeakMemory)
    # Process trees whose CPU we report beside ours, e.g. the MongoDB stand-in.
    also_watch: dict[str, int] = field(default_factory=dict)


def start_support(context: Context) -> list[Group]:
    """Our stores prepared, the services' CPU watched, the MongoDB stand-in if it is ours:
    what every phase needs before the first web server starts."""
    prepare(context.stores)
    context.also_watch.update(service_roots())
    if not context.stores.mongo_is_ours:
        return []
    standin = start_standin(context.stores.mongo_url, context.log_dir)
    context.also_watch["mongo-standin"] = standin.pid
    return [standin]
