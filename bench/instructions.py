"""Instructions per sign-up in the web's app, counted (`make bench-instructions`, or
`python -m bench.instructions`): where CPU time on this shared machine cannot show a
change of a few percent, an instruction count can.

CPU time per request moves by a third from one hour to the next here (docs/benchmark.md).
valgrind's callgrind counts the instructions a process executes instead, whatever else
runs beside it. Each app below runs in a child process under callgrind: gevent patched
first, as in gunicorn's worker, then CONCURRENCY greenlets posting sign-ups straight into
the WSGI app (no HTTP server: gunicorn's share is the same for every app), against the
local Redis and RabbitMQ on stores of its own (never the other benchmarks'), emptied after.
The child runs twice, with FEW and with MANY sign-ups after the same warm-up, and the
difference over MANY - FEW is the count per sign-up: start-up, imports and warm-up cancel.

The apps: the bare endpoint (bench.bare), landing with an intake that keeps nothing (all
of landing but its Redis call and its publish: Flask, the schema, the middleware, the
answer), and landing as it is. Each count is net of the client's own work (building each
request's environ, the greenlets), counted alone first with an app that only answers 202.
The first two repeat to within a fraction of a percent. Landing's also depends on how
many sign-ups share a Redis call and a message, which follows Redis's and RabbitMQ's
speed beside a process callgrind slows ~50 times: its sign-ups per message are printed
with it, and only counts at similar batches compare. Measured by hand, not by `make
bench`: ~15 minutes of one core for all four.
"""

import argparse
import io
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable

import redis

from bench.config import make_stores
from harness.local import BIN, ROOT
from harness.queues import purge_queues, queue_state
from harness.stores import Stores, prepare

APPS = ("bare", "landing-no-io", "landing")
CLIENT = "client"  # an app that only answers 202: the client's own work
CONCURRENCY = 32  # greenlets: one web process's share of c=64 (two processes)
WARMUP, FEW, MANY = 64, 100, 1_100
_COLLECTED = re.compile(rb"Collected : (\d+)")
# Stores of its own: its sign-ups never reach another benchmark's workers or oracle.
NAMESPACE, REDIS_DB = "landing_instructions", "11"
# The child's first statement: gevent patched before anything imports socket or threading.
_CHILD = "from gevent import monkey; monkey.patch_all(); import bench.instructions as i; i.child()"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    apps = args.apps.split(",")
    if unknown := set(apps) - set(APPS):
        raise SystemExit(f"--apps: unknown {sorted(unknown)}; known: {APPS}")
    os.environ.setdefault("BENCH_NAMESPACE", NAMESPACE)
    os.environ.setdefault("BENCH_REDIS_DB", REDIS_DB)
    stores = make_stores()
    prepare(stores)
    try:
        client = _per_signup(CLIENT, stores)
        print(f"the client alone: {client:,} instructions per sign-up", flush=True)
        counts = {}
        for app in apps:
            counts[app] = _per_signup(app, stores) - client
            print(f"{app}: {counts[app]:,} instructions per sign-up", flush=True)
    finally:
        _empty(stores)
    if "bare" in counts:
        for app, count in counts.items():
            print(f"{app}: {count / counts['bare']:.2f} x bare's")
    return 0


def _per_signup(app: str, stores: Stores) -> int:
    """Instructions per sign-up of app with the client's, from a FEW and a MANY run; for
    landing, it prints the MANY run's sign-ups per message too."""
    counted = []
    for signups in (FEW, MANY):
        _empty(stores)
        counted.append(_instructions(app, signups, stores.child_env()))
    if messages := queue_state(stores.rabbitmq_url, "registrations")[0]:
        print(f"{app}: {(WARMUP + MANY) / messages:.1f} sign-ups per message", flush=True)
    return (counted[1] - counted[0]) // (MANY - FEW)


def _empty(stores: Stores) -> None:
    """Its queues and its Redis db emptied: what a child left is nobody's sign-ups."""
    purge_queues(stores.rabbitmq_url)
    with redis.Redis.from_url(stores.redis_url) as client:
        client.flushdb()


def _parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    found.add_argument("--apps", default=",".join(APPS), help=f"comma-separated, of {APPS}")
    return found


def _instructions(app: str, signups: int, env: dict[str, str]) -> int:
    """What callgrind counted for one child run of app with signups sign-ups."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        str(BIN / "python"), "-c", _CHILD,
    ]  # fmt: skip
    env = {**env, "INSTRUCTIONS_APP": app, "INSTRUCTIONS_SIGNUPS": str(signups)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=1_800)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{app}: the child failed:\n{done.stderr.decode()[-2000:]}")
    return int(found.group(1))


def child() -> None:
    """Under callgrind, gevent already patched (_CHILD): INSTRUCTIONS_APP, warmed up, then
    INSTRUCTIONS_SIGNUPS sign-ups; SystemExit unless every answer is a 202."""
    app, signups = os.environ["INSTRUCTIONS_APP"], int(os.environ["INSTRUCTIONS_SIGNUPS"])
    post = _poster(_build(app))
    first = int.from_bytes(os.urandom(3))  # distinct numbers from one run to the next
    _post_all(post, range(first, first + WARMUP))
    _post_all(post, range(first + WARMUP, first + WARMUP + signups))


def _build(app: str) -> Callable:
    if app == CLIENT:
        return _accepts
    if app == "bare":
        from bench.bare import create_app

        return create_app()
    from landing.app import create_app

    built = create_app()
    if app == "landing-no-io":
        built.extensions["intake"] = _KeepsNothing()
    return built


def _accepts(environ: dict, start_response: Callable) -> list[bytes]:
    start_response("202 Accepted", [])
    return [b""]


class _KeepsNothing:
    """An intake that accepts every sign-up and keeps none: no Redis, no RabbitMQ."""

    def submit(self, signup) -> None:
        return None


def _poster(app: Callable) -> Callable[[int], str]:
    """post(n): sign-up n (its own number and client address) through app; its status."""
    from werkzeug.test import EnvironBuilder

    def post(n: int) -> str:
        body = json.dumps({"phone": f"0919{n % 10_000_000:07d}", "request_id": str(uuid.uuid4())})
        environ = EnvironBuilder(
            path="/api/register/", method="POST", data=body, content_type="application/json",
            headers={"X-Forwarded-For": f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"},
        ).get_environ()  # fmt: skip
        # As behind nginx: its address is the peer, the visitor's is forwarded.
        environ.update({"wsgi.input": io.BytesIO(body.encode()), "REMOTE_ADDR": "127.0.0.1"})
        status = []
        answer = app(environ, lambda line, headers, exc_info=None: status.append(line))
        b"".join(answer)
        getattr(answer, "close", lambda: None)()
        return status[0]

    return post


def _post_all(post: Callable[[int], str], numbers: range) -> None:
    """Every number posted by CONCURRENCY greenlets; SystemExit unless all were 202."""
    import gevent

    todo, refused = iter(numbers), []

    def client() -> None:
        for n in todo:
            if not (status := post(n)).startswith("202"):
                refused.append(status)

    gevent.joinall([gevent.spawn(client) for _ in range(CONCURRENCY)])
    if refused:
        raise SystemExit(f"not every sign-up was accepted: {sorted(set(refused))}")


if __name__ == "__main__":
    sys.exit(main())
