"""auto's switch over real time: engaged for a network past its rate, held while it stays
busy, off again once it has been calm for the whole hold. Seconds of waiting, so apart from
the fast tier's rules in test_challenge.py."""

import time

from landing.admission.pressure import ENGAGED, Pressure
from tests.landing.admission.test_challenge import everyone_keys, network


def test_auto_engages_for_a_network_past_its_rate_then_calms(store):
    everyone_keys(store)
    pressure = Pressure("auto", "3/second", "1000/minute", 2, store)
    busy, quiet = network(), network()
    before = ENGAGED.labels("network")._value.get()
    assert [pressure.required(busy) for _ in range(3)] == [False] * 3
    assert pressure.required(busy)  # the fourth in its second
    assert ENGAGED.labels("network")._value.get() == before + 1  # counted once, when it began
    assert pressure.required(busy)
    assert not pressure.required(quiet)  # another network is not concerned
    time.sleep(1.1)  # a new window: under the rate, but still held
    assert pressure.required(busy)
    time.sleep(2.1)  # calm for the whole hold
    assert not pressure.required(busy)
    everyone_keys(store)
