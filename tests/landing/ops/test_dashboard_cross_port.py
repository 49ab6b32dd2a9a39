"""A page on another port of the dashboard's host, in a real browser, attacks the dashboard.

The host's other operator UIs (RabbitMQ's, mongo-express) listen on other ports of the same
address, and a browser gives every port of a host the same cookies. Here such a page plants
cookies named like the dashboard's (and like dramatiq-dashboard's own), with script in them,
and submits a Delete form to the dashboard while the operator is signed in. The forged POST
is refused, the dead letter stays, no planted value reaches a page, and the operator's own
clicks still work.
"""

import json
import threading

import pytest
from playwright.sync_api import Page
from werkzeug.serving import make_server

from landing.ops.dashboard import create_dashboard
from landing.ops.dashboard.csrf import COOKIE, FIELD
from landing.shared.signup import REGISTRATIONS as QUEUE
from tests.support.config import settings
from tests.support.dashboard import (
    PHONES,
    dead_letter_sign_ups,
    management_api,
    refuse_referrer,
    submit,
)

# Closes the hidden input it would be printed into, then runs.
PLANTED = "\"><script>document.title='pwned'</script>"
FAILED_TAB = f"/dashboard/queues/{QUEUE}/failed"


def serve(app) -> tuple[str, object]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server


@pytest.fixture
def dashboard_and_other_port(clean):
    """The dashboard, and the page another port of 127.0.0.1 serves."""
    management_api()
    dashboard, dashboard_server = serve(create_dashboard(settings))
    holder = {}

    def other_port(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8")])
        return [holder["page"].encode()]

    other, other_server = serve(other_port)
    yield dashboard, other, holder
    dashboard_server.shutdown()
    other_server.shutdown()


@pytest.fixture
def operator(new_context) -> Page:
    """A tab of a browser whose operator has typed the dashboard's password."""
    return new_context(http_credentials={"username": "admin", "password": "admin"}).new_page()


def in_script(value) -> str:
    """JSON that cannot end the <script> it sits in."""
    return json.dumps(value).replace("</", "<\\/")


def forging_page(dashboard: str, message_id: str) -> str:
    """Plants cookies for every path of the host, and a Delete form with matching tokens."""
    cookies = [
        f"{name}={PLANTED}; path={path}"
        for name in ("x__dd_csrf", "__dd_csrf", COOKIE)
        for path in ("/", "/dashboard", "/dashboard/")
    ]
    fields = {"id": message_id, "queue": f"{QUEUE}.XQ", "__dd_csrf": PLANTED, FIELD: PLANTED}
    return f"""<!doctype html><title>another operator UI</title>
<form id="forged" method="POST" action="{dashboard}/dashboard/delete-message">
<button id="go">Looks harmless</button></form>
<script>
for (const cookie of {in_script(cookies)}) document.cookie = cookie;
for (const [name, value] of Object.entries({in_script(fields)})) {{
  const input = document.createElement("input");
  input.type = "hidden"; input.name = name; input.value = value;
  document.getElementById("forged").append(input);
}}
</script>"""


def test_another_port_can_neither_forge_a_delete_nor_plant_script(
    dashboard_and_other_port, operator, worker, owner, broker
):
    dashboard, other, holder = dashboard_and_other_port
    refuse_referrer(owner, True)
    try:
        (message_id,) = dead_letter_sign_ups(broker, PHONES[:1])
    finally:
        refuse_referrer(owner, False)
    assert operator.goto(dashboard + FAILED_TAB).status == 200
    assert message_id in operator.evaluate("document.body.innerHTML")  # signed in

    holder["page"] = forging_page(dashboard, message_id)
    operator.goto(f"{other}/")
    planted = operator.evaluate("document.cookie")
    assert "x__dd_csrf" in planted and COOKIE in planted  # the browser took them
    assert submit(operator, "#go").status == 403
    answer = json.loads(operator.evaluate("document.body.innerText"))
    assert answer["error"] == "forbidden"
    assert broker.get_queue_message_counts(QUEUE)[2] == 1  # still there

    assert operator.goto(f"{dashboard}{FAILED_TAB}").status == 200
    assert operator.evaluate("document.title") == f"{QUEUE} :: Dramatiq Dashboard"
    assert "pwned" not in operator.evaluate("document.documentElement.outerHTML")
    tokens = operator.evaluate(
        f"[...document.querySelectorAll('input[name={FIELD}]')].map(i => i.value)"
    )
    assert len(tokens) == 2 and all(token != PLANTED for token in tokens)

    selector = f'form[action$="/delete-message"]:has(input[value="{message_id}"]) button'
    assert submit(operator, selector).status == 302  # their own click, planted cookies and all
    assert operator.evaluate("location.pathname") == FAILED_TAB
    assert broker.get_queue_message_counts(QUEUE)[2] == 0
