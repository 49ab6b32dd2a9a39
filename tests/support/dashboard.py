"""The task dashboard's test plumbing: credentials, the management API, refused sign-ups,
its CSRF token and forms, and a form submitted by a click in the browser."""

import base64
import re
import uuid

import pytest
from playwright.sync_api import Page, Response

from landing.ops.dashboard import PREFIX
from landing.ops.dashboard.csrf import COOKIE, FIELD
from landing.ops.dashboard.management_api import ManagementAPI
from landing.shared.signup import REGISTRATIONS as QUEUE
from tests.support.config import VHOST, settings
from tests.support.services import wait_for
from tests.support.signups import attempt as support_attempt
from tests.support.signups import message_carrying

PHONES = ["09121234561", "09351234562", "09901234563"]
REFUSED = "dashboard-refused"  # a referrer PostgreSQL refuses while refused_referrer is on


def basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


AUTH = basic("admin", "admin")


def management_api() -> ManagementAPI:
    """The management API on the tests' vhost, once it answers; a failure, never a skip."""
    api = ManagementAPI(settings.rabbitmq_management_url, VHOST)

    def management_answers() -> bool:
        try:
            return isinstance(api.queue_totals(), dict)
        except OSError:
            return False

    try:
        wait_for(management_answers, timeout=30, interval=0.5)
    except AssertionError:
        pytest.fail(
            "RabbitMQ's management API does not answer at RABBITMQ_MANAGEMENT_URL: "
            "run `rabbitmq-plugins enable rabbitmq_management`"
        )
    return api


def refuse_referrer(owner, refused: bool) -> None:
    """Make PostgreSQL refuse (or take again) sign-ups whose referrer is REFUSED; owner is a
    connection as the schema's owner (the app's role may not alter the table)."""
    with owner.cursor() as cursor:
        cursor.execute("ALTER TABLE registrations DROP CONSTRAINT IF EXISTS dashboard_refused")
        if refused:
            cursor.execute(
                "ALTER TABLE registrations ADD CONSTRAINT dashboard_refused"
                f" CHECK (referrer IS DISTINCT FROM '{REFUSED}')"
            )


def send_sign_up(broker, phone: str, referrer: str = REFUSED) -> str:
    request_id = str(uuid.uuid4())
    attempt = support_attempt(
        phone, request_id=request_id, referrer=referrer, ip="127.0.0.1", user_agent="pytest"
    )
    broker.enqueue(message_carrying(attempt, request_id))
    return request_id


def dead_letter_sign_ups(broker, phones: list[str]) -> list[str]:
    """Send sign-ups PostgreSQL refuses and wait until all of them are in registrations.XQ."""
    ids = [send_sign_up(broker, phone) for phone in phones]
    wait_for(lambda: broker.get_queue_message_counts(QUEUE)[2] == len(ids), timeout=30)
    return ids


def shown_counts(page: str, queue: str = QUEUE) -> tuple[str, ...] | None:
    """Jobs, Delayed and Failed as the dashboard's queue table shows them."""
    cell = r"\s*<td[^>]*>\s*(\S+)\s*</td>"
    match = re.search(rf'queues/{queue}">\s*{queue}\s*</a>\s*</td>{cell}{cell}{cell}', page)
    return match.groups() if match else None


# CSRF: the dashboard's cookie, the token its forms echo, and an Origin that is its own.

#: werkzeug's test client serves http://localhost/; a browser's POST says where it came from.
ORIGIN = {"Origin": "http://localhost"}


def csrf_token(client) -> str:
    """The token of the client's session: a dashboard page sets it as a cookie, forms echo it."""
    client.get(f"{PREFIX}/queues/{QUEUE}/failed", headers=AUTH)
    return client.get_cookie(COOKIE, path=PREFIX).value


def post_action(
    client,
    action: str,
    message_id: str,
    queue: str = f"{QUEUE}.XQ",
    form: dict | None = None,
    headers: dict | None = None,
):
    """POST a dashboard form as its own page would; `form` and `headers` change it (None drops)."""
    form = {"id": message_id, "queue": queue, FIELD: csrf_token(client), **(form or {})}
    headers = {**AUTH, **ORIGIN, **(headers or {})}
    return client.post(
        f"{PREFIX}/{action}",
        data={name: value for name, value in form.items() if value is not None},
        headers={name: value for name, value in headers.items() if value is not None},
    )


def submit(page: Page, selector: str) -> Response:
    """Click the form button the selector finds, as a person would (it must be visible and
    enabled), and wait for the page the form leads to; returns the answer to its POST."""
    with (
        page.expect_response(lambda response: response.request.method == "POST") as posted,
        page.expect_event("load"),
    ):
        page.locator(selector).click()
    return posted.value
