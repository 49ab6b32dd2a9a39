"""GroupCommit: concurrent callers share writes, and each gets only its own outcome."""

import threading
import time

import pytest

from landing.shared.failures import Kind, classify
from landing.shared.group_commit import FlushInterrupted, GroupCommit

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


class Recorder:
    """A writer that takes a while (so callers pile up) and remembers its batches."""

    def __init__(self, delay=0.02, fail=()):
        self.batches, self.delay, self.fail = [], delay, set(fail)

    def __call__(self, values):
        self.batches.append(list(values))
        time.sleep(self.delay)
        return [ValueError(f"item {v}") if v in self.fail else v * 10 for v in values]


def run_threads(group, values):
    outcomes, threads = {}, []

    def call(value):
        try:
            outcomes[value] = group.submit(value)
        except Exception as error:
            outcomes[value] = error

    for value in values:
        threads.append(threading.Thread(target=call, args=(value,)))
        threads[-1].start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def test_a_caller_alone_is_written_at_once():
    writer = Recorder(delay=0)
    assert GroupCommit(writer).submit(3) == 30
    assert writer.batches == [[3]]


def test_concurrent_callers_share_batches_and_get_their_own_results():
    writer = Recorder()
    outcomes = run_threads(GroupCommit(writer), range(40))
    assert outcomes == {v: v * 10 for v in range(40)}
    assert sorted(v for batch in writer.batches for v in batch) == list(range(40))
    assert len(writer.batches) < 40  # some callers rode along in another's write
    assert max(len(batch) for batch in writer.batches) > 1


def test_an_item_that_fails_fails_only_its_caller():
    outcomes = run_threads(GroupCommit(Recorder(fail={7})), range(20))
    assert isinstance(outcomes.pop(7), ValueError)
    assert outcomes == {v: v * 10 for v in range(20) if v != 7}


def test_a_write_that_dies_leaves_nobody_waiting():
    started, release = threading.Event(), threading.Event()

    def dying_write(values):
        if 0 in values:  # the first batch: hold it until the others queue up behind it
            started.set()
            release.wait(5)
            return [0]
        raise RuntimeError("interrupted")  # what an async TimeLimit exception looks like

    group = GroupCommit(dying_write)
    first = threading.Thread(target=group.submit, args=(0,))
    first.start()
    started.wait(5)
    outcomes = {}

    def call(value):
        try:
            outcomes[value] = group.submit(value)
        except Exception as error:
            outcomes[value] = error

    others = [threading.Thread(target=call, args=(v,)) for v in (1, 2, 3)]
    for thread in others:
        thread.start()
    time.sleep(0.1)  # all three queued behind the first write
    release.set()
    for thread in [first, *others]:
        thread.join(5)
    assert not any(thread.is_alive() for thread in [first, *others])
    errors = sorted(type(outcome).__name__ for outcome in outcomes.values())
    # The one that wrote sees the real error; those it carried are told to retry.
    assert errors == ["FlushInterrupted", "FlushInterrupted", "RuntimeError"]
    carried = [o for o in outcomes.values() if isinstance(o, FlushInterrupted)]
    assert all(classify(o) is Kind.TRANSIENT for o in carried)


def test_write_must_answer_every_item():
    group = GroupCommit(lambda values: [])
    with pytest.raises(ValueError):  # zip(strict=True): a writer bug is loud, not a hang
        group.submit(1)
