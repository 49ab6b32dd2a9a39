"""Erasure is final: what was still queued about an erased number is never stored, logged,
exported or announced, while the number may sign up anew after the erase.

On the real PostgreSQL, Redis, RabbitMQ and MongoDB stand-in, with real workers.
"""

import pytest

from actors.broker import build_workers
from landing.shared.db import Registration
from landing.shared.exports import export_dir
from landing.shared.results import binding_key, status_key_in
from landing.shared.signup import registration_batch_message
from tests.support.config import WEBHOOK_SECRET
from tests.support.queues import queue_counts, take_all
from tests.support.services import wait_for
from tests.support.signups import signup
from tests.support.workers import in_process_worker

PHONE, OTHER = "09123456789", "09350000000"


@pytest.fixture(scope="module")
def announcing(settings, workers, receiver):
    """Workers with WEBHOOK_URL set: each new registration is announced to the receiver."""
    built = build_workers(settings.replace(webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET))
    yield built
    built.forwarder.close()
    built.broker.close()


def erase(app, phone: str = PHONE) -> str:
    output = app.test_cli_runner().invoke(args=["erase-phone", phone])
    assert output.exit_code == 0, output.output
    return output.output


def run_queued(workers, queue: str) -> None:
    """Run every message queued on queue through its actor, as a worker thread would."""
    for message in take_all(workers.broker, queue):
        workers.broker.get_actor(message.actor_name)(*message.args)


def test_a_sign_up_still_queued_when_its_number_is_erased_is_never_stored(
    app, announcing, mongo, receiver
):
    queued = signup(PHONE)  # accepted, its message not yet taken by a worker
    assert "dropped until" in erase(app)
    announcing.register_batch([queued.as_message(), signup(OTHER).as_message()])
    assert [row.phone for row in Registration.select()] == [OTHER]
    announced = [m.args[0]["phone"] for m in take_all(announcing.broker, "webhooks")]
    assert announced == [OTHER]  # no webhook for the erased number
    run_queued(announcing, "attempts")
    assert {doc["phone"] for doc in mongo.find()} == {OTHER}
    results = app.extensions["results"]
    assert not results.client.exists(status_key_in(results, queued.request_id))
    assert not results.client.exists(binding_key(queued.request_id))
    assert app.test_client().get(f"/api/register/{queued.request_id}").status_code == 404

    # Signing up anew after the erase is a new sign-up: stored as any other.
    anew = signup(PHONE)
    announcing.register_batch([anew.as_message()])
    assert Registration.get_or_none(Registration.phone == PHONE) is not None


def test_history_and_webhooks_queued_before_the_erase_are_dropped(
    app, announcing, mongo, receiver, clean
):
    receiver.reset()
    announcing.register_batch([signup(PHONE).as_message(), signup(OTHER).as_message()])
    erase(app)  # the row goes; its history and webhook messages are still queued
    run_queued(announcing, "attempts")
    assert {doc["phone"] for doc in mongo.find()} == {OTHER}

    with in_process_worker(announcing.broker, queues={"webhooks"}, worker_threads=1):
        # In order: the erased number's event first, then the other's, then none left.
        wait_for(lambda: len(receiver.delivered()) == 1, timeout=30)
        wait_for(lambda: queue_counts("webhooks") == (0, 0), timeout=30)
    [(_, body)] = receiver.delivered()
    assert OTHER in body.decode()


def test_a_real_worker_started_after_the_erase_stores_and_announces_only_the_other(
    app, announcing, mongo, receiver, clean
):
    receiver.reset()
    queued = [signup(PHONE), signup(OTHER)]
    announcing.broker.enqueue(registration_batch_message(queued))  # as the web sends it
    erase(app)
    with in_process_worker(announcing.broker):  # every queue
        wait_for(lambda: Registration.get_or_none(Registration.phone == OTHER), timeout=30)
        wait_for(lambda: len(receiver.delivered()) == 1, timeout=30)
        wait_for(lambda: mongo.find_one({"phone": OTHER}), timeout=30)
        for queue in ("registrations", "attempts", "webhooks"):
            wait_for(lambda q=queue: queue_counts(q) == (0, 0), timeout=30)
    assert [row.phone for row in Registration.select()] == [OTHER]
    [(_, body)] = receiver.delivered()
    assert OTHER in body.decode() and PHONE not in body.decode()
    assert {doc["phone"] for doc in mongo.find()} == {OTHER}


def test_erase_deletes_the_exports_that_hold_the_number(app, settings):
    directory = export_dir(settings)
    directory.mkdir(parents=True, exist_ok=True)
    holding, other = directory / "erase-holding.csv", directory / "erase-other.csv"
    holding.write_text(f"id,phone\n1,{PHONE},campaign\n2,{OTHER},campaign\n")
    other.write_text(f"id,phone\n2,{OTHER},campaign\n")
    try:
        output = erase(app)
        assert "1 export(s)" in output
        assert not holding.exists() and other.exists()
    finally:
        holding.unlink(missing_ok=True)
        other.unlink(missing_ok=True)


def test_the_erase_reports_what_it_removed_and_suppresses(app):
    output = erase(app)
    assert "0912***6789: 0 registration(s)" in output
    assert "dropped until" in output and PHONE not in output
