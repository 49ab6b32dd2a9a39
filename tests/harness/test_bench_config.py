"""bench.config: where a benchmark's stores are."""

import pytest

from bench.config import make_stores

pytestmark = pytest.mark.fast


def test_the_stores_default_to_the_benchmarks_own(monkeypatch):
    monkeypatch.delenv("BENCH_NAMESPACE", raising=False)
    monkeypatch.delenv("BENCH_REDIS_DB", raising=False)
    stores = make_stores()
    assert stores.database_url.endswith("/landing_bench")
    assert stores.rabbitmq_url.endswith("/landing_bench")
    assert stores.redis_url.endswith("/9")


def test_a_second_benchmark_can_use_stores_of_its_own(monkeypatch):
    monkeypatch.setenv("BENCH_NAMESPACE", "journey_bench")
    monkeypatch.setenv("BENCH_REDIS_DB", "3")
    stores = make_stores()
    assert stores.database_url.endswith("/journey_bench")
    assert stores.rabbitmq_url.endswith("/journey_bench")
    assert stores.redis_url.endswith("/3")
