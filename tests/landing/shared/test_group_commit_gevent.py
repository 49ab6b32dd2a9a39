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
