"""The real `dramatiq actors.worker` command, as honcho and compose start it, in a child process;
and `dramatiq actors`, which refuses to run and names it."""

import json
import os
import signal
import subprocess
import uuid

import pytest

from landing.shared.db import Registration
from tests.support.config import BIN, child_environment
from tests.support.processes import WORKER
from tests.support.queues import queue_counts
from tests.support.services import wait_for
from tests.support.signups import attempt as support_attempt
from tests.support.signups import message_carrying

PHONE = "09121234567"


@pytest.fixture
def worker_process(clean, tmp_path):
    log = tmp_path / "worker.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [*WORKER, "--processes", "1", "--threads", "2"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=child_environment(),
        )
        yield log
        process.terminate()
        process.wait(timeout=30)


def test_cli_worker_stores_a_registration_and_logs_no_phone(client, worker_process, broker):
    response = client.post(
        "/api/register/", data=json.dumps({"phone": PHONE}), content_type="application/json"
    )
    assert response.status_code == 202
    request_id = response.json["request_id"]
    wait_for(lambda: Registration.get_or_none(Registration.request_id == request_id), timeout=30)

    # A message that fails: the worker logs the failure, by message id only.

    failing = support_attempt(
        "9" * 11,
        request_id=request_id.replace(request_id[:8], "0" * 8),
        referrer=None,
        ip=None,
        user_agent=None,
    )
    broker.enqueue(message_carrying(failing))
    wait_for(lambda: "Failed to process message" in worker_process.read_text(), timeout=30)
    text = worker_process.read_text()
    assert failing["request_id"] in text
    assert "9" * 11 not in text and PHONE not in text


def test_dramatiq_actors_exits_naming_the_worker_module():
    """`dramatiq actors` (the package, not actors.worker) would otherwise run dramatiq's
    default broker with no actors: a worker consuming nothing, silently."""
    process = subprocess.Popen(
        [str(BIN / "dramatiq"), "actors", "--processes", "1", "--threads", "1"],
        stderr=subprocess.PIPE,
        text=True,
        env=child_environment(),
        start_new_session=True,  # so a worker that does start is stopped with its children
    )
    try:
        _, errors = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGTERM)
        process.communicate(timeout=30)
        pytest.fail("`dramatiq actors` ran a worker")
    assert process.returncode != 0
    assert "run `dramatiq actors.worker`" in errors


def test_sigterm_mid_batch_loses_no_message(clean, broker, tmp_path):
    """SIGTERM (what docker stop sends) to a worker in the middle of a batch: every message
    is either finished before it exits or redelivered to the next worker."""

    batch = 2500  # a worker notices SIGTERM within 1 s; it stores ~1,000 in that time
    for n in range(batch):
        attempt = support_attempt(
            f"0912{n:07d}",
            request_id=str(uuid.UUID(int=n + 1)),
            referrer=None,
            ip=None,
            user_agent=None,
        )
        broker.enqueue(message_carrying(attempt))

    def stored() -> int:
        return Registration.select().count()

    command = [*WORKER, "--processes", "1", "--threads", "4"]
    command += ["--queues", "registrations"]  # the attempt log's stand-in is slow by design
    log = tmp_path / "worker.log"
    first = start_worker(command, log)
    wait_for(stored, timeout=30, interval=0.01)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=60) == 0, log.read_text()
    done_before_exit = stored()
    assert done_before_exit < batch, "the batch finished before SIGTERM; make it bigger"
    assert "Killing worker" not in log.read_text()

    second = start_worker(command, tmp_path / "second.log")
    try:
        wait_for(lambda: stored() == batch, timeout=60)
    finally:
        second.terminate()
        second.wait(timeout=60)
    dead = broker.channel.queue_declare("registrations.XQ", passive=True).method.message_count
    assert dead == 0


def start_worker(command: list[str], log) -> subprocess.Popen:
    with log.open("w") as output:
        return subprocess.Popen(
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=child_environment(),
        )


def test_a_worker_holds_no_more_delayed_retries_than_worker_delay_prefetch(clean, broker, tmp_path):
    # Thirty retries due in ten minutes, as an outage leaves them behind.
    for n in range(30):
        body = support_attempt(f"0912000{n:04d}", request_id=str(uuid.uuid4()))
        broker.enqueue(message_carrying(body), delay=600_000)
    with (tmp_path / "worker.log").open("w") as output:
        process = subprocess.Popen(
            [*WORKER, "--processes", "1", "--threads", "2"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=child_environment(WORKER_DELAY_PREFETCH="10"),
        )
        try:
            wait_for(lambda: queue_counts("registrations.DQ")[1] == 10, timeout=30)
            assert queue_counts("registrations.DQ") == (20, 10)  # the rest wait in RabbitMQ
        finally:
            process.terminate()
            process.wait(timeout=30)
