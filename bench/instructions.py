"""Instructions per sign-up in the web's app, counted (`make bench-instructions`, or
`python -m bench.instructions`): a figure this shared, noisy machine cannot move.

CPU time per request moves by a third from one hour to the next here (docs/benchmark.md),
so a change of a few percent cannot be seen in it. valgrind's callgrind counts the
instructions a process executes instead, whatever else runs beside it. Each app below runs
in a child process under callgrind: gevent, as in gunicorn's worker, CONCURRENCY greenlets
posting sign-ups straight into the WSGI app (no HTTP server: gunicorn's share is the same
for every app), against the shared Redis and RabbitMQ on the benchmark's own db and vhost.
The child runs twice, with FEW and with MANY sign-ups after the same warm-up, and the
difference over MANY - FEW is the count per sign-up: start-up, imports and warm-up cancel.

The apps: the bare endpoint (bench.bare), landing with an intake that keeps nothing (all
of landing but its Redis call and its publish: Flask, the schema, the middleware, the
answer), and landing as it is. Each count is net of the client's own work (building each
request's environ, the greenlets), counted alone first with an app that only answers 202.
Measured by hand, not by `make bench`: ~15 minutes of one core for all four.
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

from bench.config import make_stores
from harness.local import BIN, ROOT
from harness.stores import prepare

APPS = ("bare", "landing-no-io", "landing")
CLIENT = "client"  # an app that only answers 202: the client's own work
CONCURRENCY = 32  # greenlets: one web process's share of c=64 (two processes)
WARMUP, FEW, MANY = 64, 100, 1_100
_COLLECTED = re.compile(rb"Collected : (\d+)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.child:
        _child(args.child, args.signups)
        return 0
    stores = make_stores()
    prepare(stores)
    env = stores.child_env()
    client = _per_signup(CLIENT, env)
    print(f"the client alone: {client:,} instructions per sign-up", flush=True)
    counts = {}
    for app in args.apps.split(","):
        counts[app] = _per_signup(app, env) - client
        print(f"{app}: {counts[app]:,} instructions per sign-up", flush=True)
    if "bare" in counts:
        for app, count in counts.items():
            print(f"{app}: {count / counts['bare']:.2f} x bare's")
    return 0


def _per_signup(app: str, env: dict[str, str]) -> int:
    """Instructions per sign-up of app with the client's, from a FEW and a MANY run."""
    few, many = (_instructions(app, n, env) for n in (FEW, MANY))
    return (many - few) // (MANY - FEW)


def _parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__)
    found.add_argument("--apps", default=",".join(APPS), help=f"comma-separated, of {APPS}")
    found.add_argument("--child", choices=(*APPS, CLIENT), help=argparse.SUPPRESS)
    found.add_argument("--signups", type=int, default=FEW, help=argparse.SUPPRESS)
    return found


def _instructions(app: str, signups: int, env: dict[str, str]) -> int:
    """What callgrind counted for one child run of app with signups sign-ups."""
    command = [
        "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
        str(BIN / "python"), "-m", "bench.instructions", "--child", app,
        "--signups", str(signups),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, timeout=1_800)
    found = _COLLECTED.search(done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{app}: the child failed:\n{done.stderr.decode()[-2000:]}")
    return int(found.group(1))


def _child(app: str, signups: int) -> None:
    """Under callgrind: the app, warmed up, then signups sign-ups; every answer a 202."""
    from gevent import monkey

    monkey.patch_all()
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
