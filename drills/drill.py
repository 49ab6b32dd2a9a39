"""One drill: the app on fresh stores, load, the fault, the drain, the verdict.

The load starts; ~5 s in the fault is injected and held; it is undone in `finally`; the
load runs to its end; then we wait for the backlog and compare 202s with rows.
"""

import math
import time
import uuid
from dataclasses import dataclass

from drills import verdict
from drills.env import Env, Fault
from drills.report import DrillResult, Window
from harness import oracle
from harness.clients import Load, Phones, SignUp, post
from harness.drain import drain, wait_settled
from harness.meters import PeakRss
from harness.queues import queue_state
from harness.rows import RowCounter, fetch_rows
from harness.stores import Stores

AFTER_UNDO_S = 8.0  # seconds of load at least after the fault is undone
HEALTHY_WITHIN = 30.0  # seconds for the probe sign-up to be answered, then stored


@dataclass(frozen=True)
class Knobs:
    """The run's tunables (environment DRILL_*, see drills/run.py)."""

    duration: float = 20.0  # seconds of load (longer when a fault holds long)
    clients: int = 16
    rate: float = 120.0  # new sign-ups per second, all clients together
    inject_at: float = 5.0  # seconds into the load
    drain_timeout: float = 180.0
    max_backoff_ms: int = 5000  # Retries' cap: recovery is measured in seconds, not minutes
    long_outage_s: float = 600.0  # postgres-down-long: seconds PostgreSQL is stopped
    long_rate: float = 300.0  # postgres-down-long: new sign-ups per second (a campaign)


def run_drill(fault: Fault, phones: Phones, env: Env, knobs: Knobs, stores: Stores) -> DrillResult:
    """Everything about one fault; a harness error is reported in the result, not raised."""
    result = DrillResult(fault.name)
    load = rss = None
    try:
        env.stack.start()
        probe = _probe(env.stack.port, stores, phones)
        rss = PeakRss(env.stack.worker_trees).start()
        held = fault.lead_s + fault.hold_s + fault.slack_s
        duration = max(knobs.duration, knobs.inject_at + held + AFTER_UNDO_S)
        rate, clients = fault.rate or knobs.rate, fault.clients or knobs.clients
        load = Load(env.stack.port, phones, clients, rate, duration)
        load.start()
        window = _hold(fault, env, load, knobs.inject_at)
        _finish(result, fault, env, load, window, probe, knobs, stores)
    except Exception as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        if load is not None:
            load.abort()
        if rss is not None:
            result.worker_rss_mib = rss.stop()
        env.stack.stop()
        result.restarts = list(env.stack.restarts)
    result.notes += env.notes
    verdict.judge(result, fault, env.failures)
    return result


def _probe(port: int, stores: Stores, phones: Phones) -> SignUp:
    """One sign-up before the load: the stack answers 202 and a worker stores it."""
    signup, deadline = SignUp(str(uuid.uuid4()), phones.take()), time.monotonic() + HEALTHY_WITHIN
    while signup.final != 202 and time.monotonic() < deadline:
        connection = post(port, signup, time.monotonic())
        if connection is not None:
            connection.close()
        time.sleep(0 if signup.final == 202 else 0.5)
    if signup.final != 202:
        raise RuntimeError(f"the stack is not healthy: the probe sign-up got {signup.final}")
    counter = RowCounter(stores.database_url)
    try:
        while counter() < 1:
            if time.monotonic() > deadline + HEALTHY_WITHIN:
                raise RuntimeError("the stack is not healthy: the probe sign-up was not stored")
            time.sleep(0.2)
    finally:
        counter.close()
    return signup


def _hold(fault: Fault, env: Env, load: Load, inject_at: float) -> Window:
    """Inject at inject_at, hold hold_s, undo (the fault's finally); load-clock times."""
    time.sleep(max(0.0, inject_at - load.now()))
    window, injected = Window(injected_s=round(load.now(), 2)), time.monotonic()
    # Breaking and mending may outlast the plan (a node booting slowly, an alarm slow to
    # fire and clear, two faults in turn): no client stops while the fault holds, and the
    # load goes on AFTER_UNDO_S past the undo, so recovery is seen.
    planned, load.duration = load.duration, math.inf
    try:
        with fault.action(env):
            window.broken_s = round((env.broken_at or injected) - load.t0, 2)
            window.held_from_s = round(load.now(), 2)
            time.sleep(fault.hold_s)
            window.held_to_s = round(load.now(), 2)
        window.undone_s = round(load.now(), 2)
    finally:
        load.duration = max(planned, load.now() + AFTER_UNDO_S)
    return window


def _finish(result: DrillResult, fault: Fault, env: Env, load: Load, window: Window,
            probe: SignUp, knobs: Knobs, stores: Stores) -> None:  # fmt: skip
    """Drain, then fill the result in from the sign-ups, the rows and the statuses."""
    promised = [s.request_id for s in list(load.signups) if s.final == 202]
    bound = fault.drain_s or knobs.drain_timeout
    drained = drain(load, promised, stores.database_url, _in_flight(env), bound)
    signups = [probe, *load.wait()]
    result.window, result.load_s, result.drained = window, round(load.duration, 1), drained.settled
    result.load_started_utc = load.started_utc
    if fault.rate or fault.clients:
        achieved = (len(signups) - 1) / max(load.duration, 1e-6)
        result.notes.append(f"load: {load.clients} clients, ~{achieved:.0f} new sign-ups/s")
    if drained.gone_at is not None:
        undone = load.t0 + window.undone_s
        result.backlog_gone_s = round(max(0.0, drained.gone_at - undone), 1)
    rows = fetch_rows(stores.database_url)
    verdict.tally(result, signups, rows, oracle.compare(signups, rows, stores.redis_url))
    verdict.latencies(result, signups, window, fault.bounded)
    result.dead_letters = _dead_letters(env)
    if fault.log:
        result.log_missing = _log_missing(env, signups, knobs)


def _in_flight(env: Env):
    """Ready or unacked registrations: AMQP's cheap ready count first, then the CLI."""
    names = ("registrations", "registrations.DQ")

    def count() -> int:
        url = env.broker.probe_url(env.vhost)  # in a cluster: a node that is up
        ready = sum(queue_state(url, name)[0] for name in names)
        return ready or env.broker.in_flight(env.vhost, "registrations")

    return count


def _dead_letters(env: Env) -> int | None:
    """Messages in registrations.XQ now; None if the broker would not say."""
    try:
        out = env.broker.ctl("list_queues", "-p", env.vhost, "name", "messages",
                             "--no-table-headers")  # fmt: skip
    except RuntimeError:
        return None
    rows = [line.split("\t") for line in out.splitlines()]
    return sum(int(r[1]) for r in rows if len(r) == 2 and r[0] == "registrations.XQ")


def _log_missing(env: Env, signups: list[SignUp], knobs: Knobs) -> int:
    """202s with no stored-log document, once the attempts queue has settled."""

    def in_flight() -> int:
        return env.broker.in_flight(env.vhost, "attempts")

    began = time.monotonic()
    if wait_settled(in_flight, env.mongo.count, knobs.drain_timeout) is None:
        env.notes.append("the attempt log did not settle in time")
    else:
        env.notes.append(f"the attempt log settled {time.monotonic() - began:.0f} s after the rows")
    logged = env.mongo.logged()
    return sum(1 for s in signups if s.final == 202 and s.request_id not in logged)
