"""GroupCommit under gevent, as the web's gunicorn workers run it: its gathering lets every
greenlet already ready join a batch, where a lone caller never waits for a timer."""

import json
import subprocess
import sys

import pytest

# Greenlets on one thread, as in the web's gunicorn workers: a child interpreter patched
# by gevent, so this test process keeps real threads.
GREENLETS = """
from gevent import monkey
monkey.patch_all()
import gevent
from landing.shared.group_commit import GroupCommit


batches = []
def write(values):
    batches.append(len(values))
    return list(values)

group = GroupCommit(write, gather={gather})
gevent.joinall([gevent.spawn(group.submit, v) for v in range(20)])
print(batches)
"""


@pytest.mark.parametrize(("gather", "batches"), [(0, [1] * 20), (8, [20])])
def test_gathering_lets_every_ready_greenlet_join_the_batch(gather, batches):
    script = GREENLETS.format(gather=gather)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == batches


# Callers killed at random moments, some while waiting, some just handed the turn: every
# caller left alive still gets its outcome, and the group still writes afterwards.
KILLED = """
from gevent import monkey
monkey.patch_all()
import random
import gevent
from landing.shared.group_commit import GroupCommit

random.seed(7)
def write(values):
    gevent.sleep(0.001)
    return list(values)

group = GroupCommit(write, gather=2, recheck=None)
ok = carried = 0
for round in range(200):
    callers = [gevent.spawn(group.submit, v) for v in range(12)]
    gevent.sleep(random.random() * 0.003)
    doomed = random.sample(callers, 4)
    gevent.killall(doomed, block=False)
    gevent.joinall(callers, timeout=5)
    survivors = [c for c in callers if c not in doomed]
    assert all(c.ready() for c in callers), f"round {round}: a caller never returned"
    for v, c in enumerate(callers):
        if c in doomed:
            continue
        if c.successful():
            assert c.value == v
            ok += 1
        else:  # only a batch whose writer was killed fails, and says to retry
            assert type(c.exception).__name__ == "FlushInterrupted", repr(c.exception)
            carried += 1
assert ok >= 0.7 * (ok + carried), (ok, carried)
with gevent.Timeout(5):
    assert group.submit(99) == 99
print("ok")
"""


def test_callers_killed_while_waiting_or_handed_the_turn_never_stall_the_others():
    done = subprocess.run([sys.executable, "-c", KILLED], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# The caller next in line is killed just as the batch before it ends: it is handed the turn
# it will never take, and must pass it on as it dies.
HANDED = """
from gevent import monkey
monkey.patch_all()
import gevent
from landing.shared.group_commit import GroupCommit

victims = []
def write(values):
    gevent.sleep(0.01)
    while victims:
        victims.pop().kill(block=False)  # its GreenletExit comes before its wake-up
    return list(values)

group = GroupCommit(write, recheck=None)
callers = [gevent.spawn(group.submit, v) for v in range(6)]
gevent.sleep(0)  # callers[0] writes alone; the others wait, callers[1] first in line
victims.append(callers[1])
gevent.joinall(callers, timeout=5)
assert all(c.ready() for c in callers), "the turn died with the caller it was handed to"
assert [c.value for c in callers[2:]] == [2, 3, 4, 5]
print("ok")
"""


def test_a_caller_killed_as_it_is_handed_the_turn_passes_it_on():
    done = subprocess.run([sys.executable, "-c", HANDED], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"
