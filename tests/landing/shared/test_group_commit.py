"""GroupCommit: concurrent callers share writes, and each gets only its own outcome."""

import ctypes
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


class Interrupted(Exception):
    """What dramatiq's TimeLimit does to a worker thread: an exception raised in it from outside."""


def interrupt(thread: threading.Thread) -> None:
    """Raise Interrupted in thread at its next line of Python, as TimeLimit does."""
    done = ctypes.pythonapi.PyThreadState_SetAsyncExc(
        ctypes.c_ulong(thread.ident), ctypes.py_object(Interrupted)
    )
    assert done == 1


def queued_behind_a_write(write_started, release, victim_at_end=None):
    """A group whose first write holds until release is set; at its end it interrupts
    victim_at_end()'s thread (the caller first in line, about to be handed the turn)."""
    batches = []

    def write(values):
        batches.append(list(values))
        if len(batches) == 1:
            write_started.set()
            release.wait(5)
            if victim_at_end is not None:
                interrupt(victim_at_end())
        return list(values)

    return GroupCommit(write, recheck=0.05), batches


def start_callers(group, values, outcomes):
    def call(value):
        try:
            outcomes[value] = group.submit(value)
        except BaseException as error:
            outcomes[value] = error

    threads = {}
    for value in values:
        threads[value] = threading.Thread(target=call, args=(value,), daemon=True)
        threads[value].start()
        time.sleep(0.05)  # queued in this order
    return threads


def test_a_waiting_thread_interrupted_leaves_and_the_others_are_written():
    started, release, outcomes = threading.Event(), threading.Event(), {}
    group, batches = queued_behind_a_write(started, release)
    threads = start_callers(group, [0], outcomes)
    started.wait(5)
    threads |= start_callers(group, [1, 2, 3], outcomes)
    interrupt(threads[1])  # waiting: it sees it at its next look, not once woken
    threads[1].join(2)
    assert not threads[1].is_alive() and isinstance(outcomes[1], Interrupted)
    release.set()
    for thread in threads.values():
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads.values())
    assert isinstance(outcomes[1], Interrupted)
    assert {v: outcomes[v] for v in (0, 2, 3)} == {0: 0, 2: 2, 3: 3}
    assert sorted(v for batch in batches for v in batch) == [0, 2, 3]  # 1 never written
    assert group.submit(9) == 9  # nothing holds the turn


def test_a_thread_interrupted_as_it_is_handed_the_turn_passes_it_on():
    started, release, outcomes, threads = threading.Event(), threading.Event(), {}, {}
    group, _ = queued_behind_a_write(started, release, victim_at_end=lambda: threads[1])
    threads |= start_callers(group, [0], outcomes)
    started.wait(5)
    threads |= start_callers(group, [1, 2, 3], outcomes)
    release.set()  # the write ends by interrupting 1, then hands it the turn
    for thread in threads.values():
        thread.join(5)
    assert not any(thread.is_alive() for thread in threads.values()), "the turn was lost"
    assert isinstance(outcomes[1], Interrupted | FlushInterrupted)
    assert {v: outcomes[v] for v in (0, 2, 3)} == {0: 0, 2: 2, 3: 3}
    assert group.submit(9) == 9
