"""The drills' overlapping faults, the long drill's knobs and the peak-RSS sampler, without
any service: fake faults record when they are entered and left."""

import os
from contextlib import contextmanager

import pytest

from drills import overlaps
from drills.drill import Knobs
from drills.report import COLUMNS, DrillResult, row
from drills.run import drills
from harness.meters import PeakRss

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


def recording(name: str, events: list[str]):
    @contextmanager
    def action(env):
        env.breaking()
        events.append(f"break {name}")
        try:
            yield
        finally:
            events.append(f"mend {name}")

    return action


class FakeEnv:
    def __init__(self) -> None:
        self.broken = 0

    def breaking(self) -> None:
        self.broken += 1


def test_overlapping_enters_in_order_and_mends_in_reverse():
    events: list[str] = []
    action = overlaps.overlapping(recording("a", events), recording("b", events), lead_s=0)
    with action(FakeEnv()):
        events.append("hold")
    assert events == ["break a", "break b", "hold", "mend b", "mend a"]


def test_overlapping_mends_the_first_when_the_second_fails_to_break():
    events: list[str] = []

    @contextmanager
    def broken(env):
        raise RuntimeError("rabbitmqctl failed")
        yield

    action = overlaps.overlapping(recording("a", events), broken, lead_s=0)
    with pytest.raises(RuntimeError), action(FakeEnv()):
        events.append("hold")
    assert events == ["break a", "mend a"]


def test_every_overlap_outlasts_the_actor_time_limit_and_checks_dead_letters():
    for fault in overlaps.OVERLAPS:
        assert fault.lead_s + fault.hold_s > 30, fault.name
        assert fault.dead_letters, fault.name


def test_the_long_drill_takes_its_knobs_and_runs_last():
    knobs = Knobs(long_outage_s=120, long_rate=50, drain_timeout=180)
    every = drills(knobs)
    names = [fault.name for fault in every]
    assert len(names) == len(set(names))
    long = every[-1]
    assert (long.name, long.hold_s, long.rate) == (overlaps.LONG_NAME, 120, 50)
    assert long.drain_s == 180 and long.dead_letters
    assert drills(Knobs(long_outage_s=600))[-1].drain_s == 600


def test_peak_rss_sums_a_tree_and_keeps_its_peak():
    pids = {"worker": [os.getpid(), os.getpid()], "gone": [2**22 + 1]}
    sampler = PeakRss(lambda: pids)
    sampler.sample()
    peaks = sampler.stop()
    assert peaks["worker"] > 1  # this process, twice
    assert "gone" not in peaks


def test_the_table_shows_the_registrations_workers_peak():
    result = DrillResult("x", worker_rss_mib={"worker-registrations": 123.4})
    cells = row(result)
    assert len(cells) == len(COLUMNS)
    assert cells[COLUMNS.index("worker RSS MiB")] == "123"
