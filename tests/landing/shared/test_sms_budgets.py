"""SMS budgets on the tests' Redis: a number, a network and the hour each stop codes once
spent, a refund gives a charge back, and nothing is counted by a refused charge."""

import uuid

import pytest
import redis

from landing.shared.sms_budgets import Budgets, Limits, network_of

pytestmark = pytest.mark.fast  # the fast tier: Redis only


@pytest.fixture
def client(settings):
    with redis.Redis.from_url(settings.redis_url) as client:
        yield client


def budgets(client, number=2, network=3, hourly=5) -> Budgets:
    prefix = f"test-budget:{uuid.uuid4()}"  # keys of this test's own
    return Budgets(client, "secret", Limits(number, network, hourly), prefix)


def test_a_number_gets_its_budget_and_no_more(client):
    spent = budgets(client)
    assert [spent.charge("09120000001", "10.0.0.0/24") for _ in range(3)] == [None, None, "number"]
    assert spent.charge("09120000002", "10.0.0.0/24") is None  # another number still may


def test_a_network_is_stopped_across_numbers(client):
    spent = budgets(client, number=10, network=3)
    charges = [spent.charge(f"0912000000{i}", "10.0.0.0/24") for i in range(4)]
    assert charges == [None, None, None, "network"]
    assert spent.charge("09120000009", "10.0.1.0/24") is None


def test_the_hour_caps_everyone_however_spread(client):
    spent = budgets(client, number=10, network=10, hourly=3)
    charges = [spent.charge(f"0912000000{i}", f"10.0.{i}.0/24") for i in range(4)]
    assert charges == [None, None, None, "hourly"]


def test_a_refused_charge_counts_nothing_and_a_refund_gives_one_back(client):
    spent = budgets(client, number=1, network=1, hourly=10)
    assert spent.charge("09120000001", "10.0.0.0/24") is None
    assert spent.charge("09120000002", "10.0.0.0/24") == "network"  # its number not counted
    spent.refund("09120000001", "10.0.0.0/24")
    assert spent.charge("09120000002", "10.0.0.0/24") is None


def test_the_number_is_kept_only_as_a_keyed_hash(client):
    spent = budgets(client)
    spent.charge("09123456789", "10.0.0.0/24")
    keys = [k.decode() for k in client.scan_iter(match=f"{spent.prefix}:*")]
    assert keys and not any("9123456789" in key for key in keys)
    assert spent.number_key("09123456789") in keys


def test_networks():
    assert network_of("203.0.113.9") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2::1") == "2001:db8:1::/48"
    assert network_of(None) == network_of("nonsense") == ""
