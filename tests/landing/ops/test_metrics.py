"""Prometheus metrics: the web's /metrics (in process and under gunicorn) and the workers'."""

import json
import os
import socket
import time
import uuid
from urllib.parse import urlsplit

from prometheus_client.parser import text_string_to_metric_families

from landing.shared.db import Registration
from tests.support.processes import (
    answers,
    attempt,
    enqueue_registration,
    http,
    running_gunicorn,
    running_worker,
)
from tests.support.services import wait_for

PHONES = [f"0912000000{i}" for i in range(10)]
REQUESTS = "landing_http_requests_total"
LATENCY = "landing_http_request_duration_seconds"
READY = "landing_queue_messages_ready"


def parse(text: str) -> dict[tuple, float]:
    """Every sample of a scrape: (name, sorted label pairs) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict[tuple, float], name: str, **labels: str) -> float | None:
    return samples.get((name, tuple(sorted(labels.items()))))


def scrape(client) -> dict[tuple, float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return parse(response.text)


def post(client, body: dict):
    return client.post("/api/register/", data=json.dumps(body), content_type="application/json")


def test_web_counts_and_times_requests_by_route_and_status(client):
    for phone in PHONES[:3]:
        assert post(client, {"phone": phone}).status_code == 202
    assert post(client, {"phone": "12"}).status_code == 400
    unknown = str(uuid.uuid4())
    assert client.get(f"/api/register/{unknown}").status_code == 404
    assert client.get("/no/such/page").status_code == 404

    samples = scrape(client)
    register = {"method": "POST", "endpoint": "/api/register/"}
    assert value(samples, REQUESTS, status="202", **register) == 3
    assert value(samples, REQUESTS, status="400", **register) == 1
    status_route = {"method": "GET", "endpoint": "/api/register/<request_id>"}
    assert value(samples, REQUESTS, status="404", **status_route) == 1
    assert value(samples, REQUESTS, method="GET", endpoint="unmatched", status="404") == 1
    assert value(samples, f"{LATENCY}_count", **register) == 4
    assert value(samples, f"{LATENCY}_bucket", le="+Inf", **register) == 4
    assert value(samples, f"{LATENCY}_bucket", le="0.005", **register) is not None
    # Labels name routes, never paths: no id, no made-up page.
    labels = " ".join(str(key) for key in samples)
    assert unknown not in labels and "/no/such/page" not in labels
    # The three accepted sign-ups wait in RabbitMQ (no worker runs here).
    assert value(samples, READY, queue="registrations") == 3


def test_queue_depths_come_from_rabbitmq(client, broker):
    for phone in PHONES[:5]:
        enqueue_registration(broker, attempt(phone))
    samples = scrape(client)
    assert value(samples, READY, queue="registrations") == 5
    for queue in ("registrations.DQ", "registrations.XQ"):
        assert value(samples, READY, queue=queue) == 0
    assert value(samples, "landing_queue_consumers", queue="registrations") == 0


def test_metrics_answer_without_queue_depths_when_rabbitmq_is_silent(make_app):
    # A socket that accepts connections and never speaks AMQP: the worst kind of outage.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"amqp://guest:guest@127.0.0.1:{silent.getsockname()[1]}/%2F"
        client = make_app(rabbitmq_url=url).test_client()
        started = time.monotonic()
        samples = scrape(client)
    assert time.monotonic() - started < 5
    assert not [key for key in samples if key[0] == READY]
    assert value(samples, "landing_http_requests_inprogress") == 1  # the scrape itself


def test_gunicorn_adds_up_every_worker_process(clean, tmp_path):
    # Each worker process quits after two requests, so six are served by at least three.
    temp = tmp_path / "tmp"
    temp.mkdir()
    recycle = ("--workers", "2", "--max-requests", "2", "--max-requests-jitter", "0")
    with running_gunicorn(tmp_path, *recycle, env={"TMPDIR": str(temp)}) as web:
        for _ in range(6):
            assert http(f"{web.url}/api/register/", {"phone": "12"})[0] == 400
        status, _, text = http(f"{web.url}/metrics")
        assert status == 200
        samples = parse(text)
        register = {"method": "POST", "endpoint": "/api/register/"}
        assert value(samples, REQUESTS, status="400", **register) == 6
        assert value(samples, f"{LATENCY}_count", **register) == 6
        assert len(list(temp.glob("landing-web-metrics-*"))) == 1
        assert web.stop() == 0
    assert not list(temp.glob("landing-web-metrics-*")), "the master leaves no metric files"


def test_cli_worker_serves_message_counts_of_all_its_processes(clean, tmp_path, broker):
    with running_worker(tmp_path, processes=2) as worker:
        wait_for(lambda: answers(worker.url), timeout=30)
        bodies = [attempt(phone) for phone in PHONES[:4]]
        for body in bodies:
            enqueue_registration(broker, body)
        failing = attempt("9" * 11)  # PostgreSQL's CHECK refuses it: dead-lettered at once
        enqueue_registration(broker, failing)
        wait_for(lambda: Registration.select().count() == 4, timeout=30)

        register = {"queue_name": "registrations", "actor_name": "register"}

        def counted():
            samples = parse(http(worker.url)[2])
            rejected = value(samples, "dramatiq_message_rejects_total", **register) == 1
            done = rejected and value(samples, "dramatiq_messages_total", **register) == 5
            return samples if done else None

        samples = wait_for(counted, timeout=30)
        # 4 stored + the failing one tried once: bad data is never retried.
        assert value(samples, "dramatiq_messages_total", **register) == 5
        assert value(samples, "dramatiq_message_errors_total", **register) == 1
        assert value(samples, "dramatiq_message_retries_total", **register) is None
        durations = "dramatiq_message_duration_milliseconds_count"
        assert value(samples, durations, **register) == 5
        assert worker.stop() == 0
    with socket.socket() as probe:  # the metrics server went with its master
        assert probe.connect_ex(("127.0.0.1", urlsplit(worker.url).port)) != 0
    log = worker.output.read_text()
    assert "Unexpected failure" not in log and "AttributeError" not in log


def test_in_process_worker_keeps_prometheus_quiet(worker, broker, caplog):
    body = attempt(PHONES[0])
    enqueue_registration(broker, body)
    wait_for(lambda: Registration.get_or_none(Registration.request_id == body["request_id"]))
    assert not [r for r in caplog.records if "Unexpected failure" in r.getMessage()]
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ


def test_a_sample_that_cannot_be_written_leaves_the_answer_as_it_was(app, caplog):
    metrics = app.extensions["metrics"]

    def full(*labels):
        raise OSError(28, "No space left on device")

    metrics.series = full
    answer = app.test_client().get("/health")
    assert answer.status_code == 200 and answer.json == {"status": "ok"}
    assert "request not counted" in caplog.text
