"""The task dashboard on the real RabbitMQ: auth, counts, dead letters listed, deleted, requeued.

Dead letters are made the way production makes them: PostgreSQL refuses a sign-up (here a
CHECK the test adds on the referrer), Retries gives up after MAX_RETRIES=2 and RabbitMQ moves
the message to registrations.XQ. The dashboard's counts come from the management API, whose
statistics lag by up to 5 s, so tests poll the page; exact counts are read with a passive
queue_declare (broker.get_queue_message_counts).
"""

import re

import pytest
from werkzeug.test import Client

from landing.ops.dashboard import create_dashboard
from landing.shared.db import Registration
from landing.shared.privacy import mask_phone
from landing.shared.settings import load
from landing.shared.signup import REGISTRATIONS as QUEUE
from tests.support.config import settings
from tests.support.dashboard import (
    AUTH,
    ORIGIN,
    PHONES,
    basic,
    dead_letter_sign_ups,
    management_api,
    post_action,
    refuse_referrer,
    send_sign_up,
    shown_counts,
)
from tests.support.services import wait_for


@pytest.fixture(scope="session")
def management(broker):
    return management_api()


@pytest.fixture
def dashboard(clean, management):
    """The dashboard's WSGI app behind a test client that keeps its CSRF cookie."""
    return Client(create_dashboard(settings))


@pytest.fixture
def refused_referrer(owner):
    refuse_referrer(owner, True)
    yield
    refuse_referrer(owner, False)


def exact_dead_count(broker) -> int:
    return broker.get_queue_message_counts(QUEUE)[2]


def text(response) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))


def wait_for_counts(client: Client, wanted: tuple[str, str, str]) -> str:
    def dashboard_shows_counts():
        page = text(client.get("/dashboard/", headers=AUTH))
        return page if shown_counts(page) == wanted else None

    return wait_for(dashboard_shows_counts, timeout=20, interval=0.5)


# Auth and configuration.


def test_every_path_needs_the_configured_credentials(management):
    client = Client(create_dashboard(settings))
    for headers in ({}, basic("admin", "wrong"), basic("root", "admin"), {"Authorization": "x"}):
        response = client.get("/dashboard/", headers=headers)
        assert response.status_code == 401
        assert response.json["error"] == "unauthorized" and response.json["message"]
        assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    for path in ("/", "/dashboard"):
        response = client.get(path, headers=AUTH)
        assert (response.status_code, response.headers["Location"]) == (302, "/dashboard/")
    assert client.get("/dashboard/", headers=AUTH).status_code == 200
    assert client.get("/elsewhere", headers=AUTH).json["error"] == "not_found"


def test_configured_credentials_replace_the_development_ones(management):
    client = Client(
        create_dashboard(settings.replace(dashboard_user="ops", dashboard_password="s3 cret"))
    )
    assert client.get("/dashboard/", headers=AUTH).status_code == 401
    assert client.get("/dashboard/", headers=basic("ops", "s3 cret")).status_code == 200


def test_production_has_no_dashboard_password_or_management_url_default():
    urls = {name: "scheme://u:p@host/x" for name in ("DATABASE_URL", "RABBITMQ_URL")}
    urls |= {"REDIS_URL": "redis://h/0", "MONGO_URL": "mongodb://h/logs"}
    with pytest.raises(RuntimeError) as caught:
        load({"APP_ENV": "production", **urls}, process="dashboard")
    assert "DASHBOARD_PASSWORD" in str(caught.value)
    assert "RABBITMQ_MANAGEMENT_URL" in str(caught.value)
    # The public web, given only its own secrets, starts without them and holds none.
    web = load(
        {"APP_ENV": "production", **urls, "LIMIT_KEY_SECRET": "k", "ERASURE_SECRET": "e"}
        | {"CHALLENGE_SECRET": "c"},
        process="web",
    )
    assert (web.dashboard_password, web.rabbitmq_management_url) == ("", "")
    with pytest.raises(RuntimeError):
        create_dashboard(settings.replace(dashboard_password=""))


@pytest.mark.parametrize(
    "url", ["http://guest:guest@127.0.0.1:1", "http://guest:wrong@127.0.0.1:15672"]
)
def test_management_api_unreachable_or_refusing_answers_503(management, url):
    response = Client(create_dashboard(settings.replace(rabbitmq_management_url=url))).get(
        "/dashboard/", headers=AUTH
    )
    assert response.status_code == 503
    assert response.json["error"] == "unavailable"


# The adapter against the real RabbitMQ.


def test_live_queues_show_counts_but_are_never_consumed(dashboard, broker):
    ids = [send_sign_up(broker, phone, referrer="live") for phone in PHONES]  # no worker
    assert broker.get_queue_message_counts(QUEUE) == (3, 0, 0)
    wait_for_counts(dashboard, ("3", "0", "0"))
    page = text(dashboard.get(f"/dashboard/queues/{QUEUE}", headers=AUTH))
    assert 'Standard (<em class="em em--primary">3</em>)' in page
    assert "There are no jobs in this queue." in page
    job = dashboard.get(f"/dashboard/queues/{QUEUE}/standard/{ids[0]}", headers=AUTH)
    assert job.status_code == 302  # not listed: back to the queue page
    assert post_action(dashboard, "delete-message", ids[0], queue=QUEUE).status_code == 302
    assert broker.get_queue_message_counts(QUEUE) == (3, 0, 0)


def test_a_publishers_private_queue_is_neither_a_task_queue_nor_a_worker(
    dashboard, client, management
):
    """Each web process listens for vanished queues on a queue of its own, which RabbitMQ
    names amq.gen-...; the dashboard lists the task queues and their workers only."""
    response = client.post("/api/register/", json={"phone": PHONES[0]})  # opens the publisher
    assert response.status_code == 202

    def private_queue_consumed() -> bool:
        consumed = [consumer["queue"]["name"] for consumer in management.consumers()]
        return any(name.startswith("amq.gen-") for name in consumed) and any(
            name.startswith("amq.gen-") for name in management.queue_totals()
        )

    wait_for(private_queue_consumed, timeout=20, interval=0.5)
    home = wait_for_counts(dashboard, ("1", "0", "0"))
    assert "amq." not in home
    assert shown_counts(home, "attempts") == ("0", "0", "0")


def test_dead_letters_are_counted_listed_masked_and_left_in_place(
    dashboard, worker, refused_referrer, broker
):
    ids = dead_letter_sign_ups(broker, PHONES)
    home = wait_for_counts(dashboard, ("0", "0", "3"))
    wait_for(
        lambda: "registrations @ 127.0.0.1:" in text(dashboard.get("/dashboard/", headers=AUTH))
    )
    assert "attempts" in home

    page = text(dashboard.get(f"/dashboard/queues/{QUEUE}/failed", headers=AUTH))
    assert 'Failed (<em class="em em--tertiary">3</em>)' in page
    assert all(f"/failed/{request_id}" in page for request_id in ids)
    assert all(mask_phone(phone) in page and phone not in page for phone in PHONES)
    # Data PostgreSQL refuses is never retried; the dead letter still says why it failed.
    assert page.count('table__number--tertiary"> 0 </td>') == 3
    assert exact_dead_count(broker) == 3  # listing took nothing away

    job = text(dashboard.get(f"/dashboard/queues/{QUEUE}/failed/{ids[0]}", headers=AUTH))
    assert "<pre>register</pre>" in job and mask_phone(PHONES[0]) in job
    assert PHONES[0] not in job
    assert "<th>Traceback</th>" in job and "StoreRefused" in job
    assert "<th>Retries</th> <td><pre>0</pre>" in job
    assert exact_dead_count(broker) == 3


def test_delete_removes_exactly_one_dead_letter_and_keeps_the_order(
    dashboard, worker, refused_referrer, broker
):
    ids = dead_letter_sign_ups(broker, PHONES)
    before = _listed_ids(dashboard, ids)
    form = {"id": ids[1], "queue": f"{QUEUE}.XQ"}
    refused = dashboard.post("/dashboard/delete-message", data=form, headers={**AUTH, **ORIGIN})
    assert (refused.status_code, refused.json["error"]) == (403, "forbidden")
    assert exact_dead_count(broker) == 3  # no CSRF token, nothing deleted

    response = post_action(dashboard, "delete-message", ids[1])
    assert (response.status_code, response.headers["Location"]) == (
        302,
        f"/dashboard/queues/{QUEUE}/failed",
    )
    assert exact_dead_count(broker) == 2
    assert _listed_ids(dashboard, ids) == [i for i in before if i != ids[1]]


def test_requeue_sends_a_dead_letter_back_with_fresh_retries_and_it_is_processed(
    dashboard, client, worker, owner, refused_referrer, broker
):
    ids = dead_letter_sign_ups(broker, PHONES[:2])
    wait_for(lambda: client.get(f"/api/register/{ids[0]}").json["status"] == "failed")
    refuse_referrer(owner, False)  # the operator fixed what PostgreSQL refused

    response = post_action(dashboard, "requeue-message", ids[0])
    assert (response.status_code, response.headers["Location"]) == (
        302,
        f"/dashboard/queues/{QUEUE}/failed",
    )
    wait_for(lambda: client.get(f"/api/register/{ids[0]}").json["status"] == "registered")
    row = Registration.get(Registration.request_id == ids[0])
    assert row.phone == PHONES[0]  # the real number was requeued, not the masked one
    assert exact_dead_count(broker) == 1
    assert _listed_ids(dashboard, ids) == [ids[1]]
    assert post_action(dashboard, "requeue-message", ids[0]).status_code == 410


def _listed_ids(client: Client, ids: list[str]) -> list[str]:
    """The given message ids in the order the Failed tab lists them."""
    page = text(client.get(f"/dashboard/queues/{QUEUE}/failed", headers=AUTH))
    return sorted((i for i in ids if i in page), key=page.index)
