"""The faults: each a context manager that breaks one thing and, in `finally`, mends it.

The runner enters it ~5 s into the load, holds it `hold_s` seconds, then leaves it (the
undo). Whatever the fault froze or stopped is also registered with harness.cleanup, so
Ctrl-C or SIGTERM while it holds still mends it.
"""

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from drills.env import Env, Fault
from harness import cleanup
from harness.local import wait_until
from harness.procs import resume, signal_all, status_value


@contextmanager
def frozen(pids: list[int], label: str, env: Env) -> Iterator[None]:
    """SIGSTOP pids for the duration; SIGCONT in finally (and at exit, whatever happens)."""
    key = cleanup.add(f"resume {label}", lambda: resume(pids))
    try:
        env.breaking()
        signal_all(pids, signal.SIGSTOP)
        env.notes.append(f"SIGSTOPped {len(pids)} processes of {label}")
        yield
    finally:
        cleanup.done(key)


@contextmanager
def app_stopped(env: Env) -> Iterator[None]:
    """`rabbitmqctl stop_app`; mended by start_app and await_startup."""
    env.breaking()
    env.broker.ctl("stop_app")
    try:
        yield
    finally:
        env.broker.ctl("start_app")
        env.broker.ctl("await_startup", timeout=120)


@contextmanager
def node_restart(env: Env) -> Iterator[None]:
    """The whole node stopped, then booted again on the same data directory."""
    try:
        env.breaking()
        env.broker.stop()
        yield
    finally:
        env.broker.start()  # same directory: durable queues and persistent messages kept


@contextmanager
def queue_deleted(env: Env) -> Iterator[None]:
    """`rabbitmqctl delete_queue registrations` under load; nothing mends it but the app."""
    held = env.broker.unacked(env.vhost, "registrations")  # a moment before: evidence only
    env.notes.append(f"just before delete_queue, {held} registrations were unacked")
    env.breaking()
    out = env.broker.ctl("delete_queue", "-p", env.vhost, "registrations").strip()
    env.notes.append(f"delete_queue said: {out or '(nothing)'}")
    yield  # nothing to mend: the app has to cope on its own


@contextmanager
def memory_alarm(env: Env) -> Iterator[None]:
    """A real memory alarm (watermark 0.000001), seen firing and clearing."""
    try:
        env.breaking()
        env.broker.ctl("set_vm_memory_high_watermark", "0.000001")
        _expect(env, env.broker.memory_alarm, "the memory alarm fired")
        yield
    finally:
        env.broker.ctl("set_vm_memory_high_watermark", "0.4")
        _expect(env, lambda: not env.broker.memory_alarm(), "the memory alarm cleared")


def _expect(env: Env, condition: Callable[[], bool], what: str, within: float = 30) -> None:
    """Note how long condition took to hold; a failure of the drill if it never did."""
    began = time.monotonic()
    if wait_until(condition, within, every=0.5):
        env.notes.append(f"{what} ({time.monotonic() - began:.1f} s, rabbitmq-diagnostics alarms)")
    else:
        env.failures.append(f"not so within {within:.0f} s: {what}")


@contextmanager
def broker_silent(env: Env) -> Iterator[None]:
    """The node accepts TCP and never answers: beam.smp and its children SIGSTOPped."""
    # beam.smp and its helpers (erl_child_setup, inet_gethost); epmd is the machine's.
    with frozen(env.broker.freeze_targets(), "the private RabbitMQ node", env):
        yield


@contextmanager
def worker_killed(env: Env) -> Iterator[None]:
    """SIGKILL of the registrations worker process while it holds messages."""
    # Wait (briefly) for a moment with messages in the worker's hands: RabbitMQ's count is
    # ~0.4 s old when the kill lands, so this makes "mid-batch" likely, not certain.
    unacked = wait_until(lambda: _held_by_workers(env, at_least=2), 10) or "fewer than 2"
    worker = max(env.stack.worker_children(), key=_threads)  # the metrics fork has one
    env.breaking()
    signal_all([worker], signal.SIGKILL)
    env.notes.append(f"SIGKILLed a worker process; {unacked} messages were unacked just before")
    yield


def _held_by_workers(env: Env, at_least: int) -> int:
    unacked = env.broker.unacked(env.vhost, "registrations")
    return unacked if unacked >= at_least else 0


def _threads(pid: int) -> int:
    return int(status_value(pid, "Threads") or 0)


@contextmanager
def postgres_restart(env: Env) -> Iterator[None]:
    """`pg_ctl restart -m fast`: every session cut, committed rows kept."""
    env.breaking()
    env.postgres.restart()
    yield


@contextmanager
def postgres_down(env: Env) -> Iterator[None]:
    """`pg_ctl stop -m fast`: connections refused until it is started again, rows kept."""
    try:
        env.breaking()
        env.postgres.halt()
        yield
    finally:
        env.postgres.start()


@contextmanager
def postgres_frozen(env: Env) -> Iterator[None]:
    """The postmaster and every backend SIGSTOPped: connections hang, nothing errors."""
    with frozen(env.postgres.pids(), "the private PostgreSQL", env):
        yield


@contextmanager
def redis_down(env: Env) -> Iterator[None]:
    """Redis SIGKILLed (its keys gone with it), started again on the same port."""
    try:
        env.breaking()
        env.redis.kill()
        yield
    finally:
        env.redis.start()


@contextmanager
def mongo_down(env: Env) -> Iterator[None]:
    """MongoDB unreachable (the gate closed), its documents kept behind it."""
    try:
        env.breaking()
        env.mongo.down()
        yield
    finally:
        env.mongo.up()


@contextmanager
def leader_killed(env: Env) -> Iterator[None]:
    """SIGKILL the cluster's node leading `registrations`; it boots again and rejoins."""
    node, kind = env.broker.host_of(env.vhost, "registrations")
    env.notes.append(f"`registrations` is a {kind} queue; SIGKILLed its leader {node.node}")
    try:
        env.breaking()
        node.kill()
        yield
    finally:
        node.start()  # same directory: it rejoins the cluster
        running = env.broker.running()
        env.notes.append(f"after the restart {running} of 3 nodes run in the cluster")
        if running != len(env.broker.nodes):
            env.failures.append(f"only {running} of 3 nodes run after the restart")


FAULTS = (
    Fault("rabbitmq-app-stopped", 8, app_stopped, slack_s=5),
    Fault("rabbitmq-node-restart", 0, node_restart, slack_s=12),
    Fault("queue-deleted", 0, queue_deleted),
    Fault("memory-alarm", 5, memory_alarm, bounded=True),
    Fault("broker-silent", 10, broker_silent, bounded=True),
    Fault("worker-killed", 0, worker_killed),
    Fault("postgres-restart", 0, postgres_restart),
    Fault("postgres-frozen", 10, postgres_frozen),
    Fault("redis-down", 10, redis_down),
    Fault("mongo-down", 30, mongo_down, rate=25, log=True),
    # On three clustered nodes of its own (harness.cluster) and quorum queues.
    Fault("cluster-leader-killed", 10, leader_killed, cluster=True, slack_s=20),
)
