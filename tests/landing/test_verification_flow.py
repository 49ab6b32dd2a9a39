"""Phone verification end to end (VERIFICATION=sms): the app, a real Dramatiq worker on the
tests' RabbitMQ, PostgreSQL and Redis, codes sent to the local SMS gateway, the webhook to a
local receiver. The hostile cases too: wrong codes past the limit, an expired code, a resend
within its cooldown, a spent budget, a number outside the mobile prefixes, a provider down.
Whatever happens to a code, the sign-up is stored."""

import csv
import io
import json
import re
import uuid

import pytest
import redis
from standardwebhooks import Webhook
from werkzeug.test import Client

from landing.admin import stats
from landing.ops.dashboard import create_dashboard
from landing.shared import exports
from landing.shared.db import db
from landing.shared.verification import budgets_for, record_key
from tests.support.config import WEBHOOK_SECRET as SECRET
from tests.support.dashboard import AUTH
from tests.support.http import assert_error, post
from tests.support.services import wait_for
from tests.support.sms import NUMBER_BUDGET, sms_settings

PHONE = "09123456789"


@pytest.fixture
def sms_app(make_app, settings, sms_gateway, receiver, sms_worker):
    """The app with VERIFICATION=sms (and a worker behind it); changes as keyword arguments."""

    def make(**changes):
        return make_app(**{**vars_of(sms_settings(settings, sms_gateway, receiver)), **changes})

    return make


def vars_of(config) -> dict:
    return {name: getattr(config, name) for name in config.__dataclass_fields__}


def sign_up(client, phone: str = PHONE) -> str:
    response = post(client, {"phone": phone})
    assert response.status_code == 202, response.json
    assert response.json["verify_by"] == "sms"  # the page polls for the code step
    request_id = response.json["request_id"]
    wait_for(lambda: status_of(client, request_id)["status"] == "registered", timeout=15)
    return request_id


def status_of(client, request_id: str) -> dict:
    return client.get(f"/api/register/{request_id}").json


def verify(client, request_id: str, code: str):
    return client.post(f"/api/register/{request_id}/verify", json={"code": code})


def resend(client, request_id: str):
    return client.post(f"/api/register/{request_id}/resend")


def code_for(gateway, count: int = 1, phone: str = PHONE) -> str:
    """The latest code sent to phone, once `count` have been."""
    return wait_for(lambda: len(gateway.codes_to(phone)) >= count and gateway.codes_to(phone), 15)[
        -1
    ]


def verified_rows() -> list[tuple]:
    with db.atomic():
        cursor = db.cursor()
        cursor.execute("SELECT request_id::text, verified_at FROM verifications")
        return cursor.fetchall()


def stored_phones() -> list[str]:
    with db.atomic():
        cursor = db.cursor()
        cursor.execute("SELECT phone FROM registrations")
        return [phone for (phone,) in cursor.fetchall()]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"data": "{", "content_type": "application/json"}, "_schema", "not valid JSON"),
        ({"data": "123456", "content_type": "text/plain"}, "_schema", "not valid JSON"),
        ({"json": [1]}, "_schema", "Invalid input type"),
        ({"json": {"code": 123456}}, "code", "Not a valid string"),
        ({"json": {"code": "12345"}}, "code", "6-digit"),
    ],
)
def test_a_malformed_code_is_a_400_saying_what_is_wrong(clean, make_app, body, field, message):
    client = make_app(verification="sms", verification_secret="test-secret").test_client()
    response = client.post(f"/api/register/{uuid.uuid4()}/verify", **body)
    assert response.status_code == 400
    assert response.json["error"] == "invalid"
    assert message in " ".join(response.json["fields"][field])


def test_a_code_sent_by_sms_verifies_the_registration(sms_app, sms_gateway, receiver):
    client = sms_app().test_client()
    request_id = sign_up(client)
    assert status_of(client, request_id)["verification"] == "pending"
    code = code_for(sms_gateway)
    assert sms_gateway.messages()[0]["template"] == "verify"

    refused = verify(client, request_id, wrong(code))
    assert_error(refused, 400, "invalid")
    assert refused.json["attempts_left"] == 4
    # Persian digits, as a phone's keyboard may type them.
    typed = code.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    answer = verify(client, request_id, typed)
    assert answer.status_code == 200 and answer.json == {
        "request_id": request_id,
        "verification": "verified",
    }
    [(stored_id, verified_at)] = wait_for(verified_rows, timeout=15)
    assert stored_id == request_id
    assert status_of(client, request_id)["verification"] == "verified"
    assert verify(client, request_id, code).status_code == 200  # a retry: the same answer

    events = wait_for(
        lambda: [
            Webhook(SECRET).verify(body, dict(headers))
            for headers, body in receiver.delivered()
            if json.loads(body)["event"] == "registration.verified"
        ],
        timeout=20,
    )
    assert events[0]["request_id"] == request_id and events[0]["phone"] == PHONE
    assert events[0]["verified_at"].startswith(verified_at.date().isoformat())


def test_a_duplicate_sign_up_verifies_the_stored_row(sms_app, sms_gateway):
    client = sms_app().test_client()
    first = sign_up(client)
    code_for(sms_gateway)  # the first sign-up's code out first: the latest is then the second's
    second = sign_up(client)  # the same number again: answered registered, not stored twice
    assert status_of(client, second)["verification"] == "pending"
    code = code_for(sms_gateway, count=2)
    assert verify(client, second, code).status_code == 200
    assert [rid for rid, _ in wait_for(verified_rows, timeout=15)] == [first]


def test_wrong_codes_past_the_limit_void_the_code(sms_app, sms_gateway):
    client = sms_app(verification_attempts=3).test_client()
    request_id = sign_up(client)
    code = code_for(sms_gateway)
    lefts = [verify(client, request_id, wrong(code)).json.get("attempts_left") for _ in range(2)]
    assert lefts == [2, 1]
    assert_error(verify(client, request_id, wrong(code)), 410, "gone")
    assert_error(verify(client, request_id, code), 410, "gone")  # even the right one now
    assert verified_rows() == []
    assert stored_phones() == [PHONE]  # the sign-up is stored all the same


def test_an_expired_code_is_refused(sms_app, sms_gateway, settings):
    client = sms_app().test_client()
    request_id = sign_up(client)
    code = code_for(sms_gateway)
    with redis.Redis.from_url(settings.redis_url) as store:  # its time, as if minutes passed
        store.hset(record_key(request_id), "expires", "1")
    refused = verify(client, request_id, code)
    assert_error(refused, 410, "gone")
    assert "expired" in refused.json["message"]


def test_a_resend_waits_for_its_cooldown_then_a_new_code_replaces_the_old(sms_app, sms_gateway):
    waiting = sms_app(verification_resend_cooldown=60).test_client()
    request_id = sign_up(waiting)
    old = code_for(sms_gateway)
    too_soon = resend(waiting, request_id)
    assert_error(too_soon, 429, "rate_limited")
    assert 50 < int(too_soon.headers["Retry-After"]) <= 60

    ready = sms_app(verification_resend_cooldown=0).test_client()
    again = resend(ready, request_id)
    assert again.status_code == 202 and again.headers["Location"].endswith(request_id)
    new = code_for(sms_gateway, count=2)
    if new != old:  # one time in a million they match
        assert_error(verify(ready, request_id, old), 400, "invalid")
    assert verify(ready, request_id, new).status_code == 200


def test_a_spent_number_budget_sends_nothing_more(sms_app, sms_gateway):
    client = sms_app(verification_resend_cooldown=0).test_client()
    request_id = sign_up(client)
    code_for(sms_gateway)
    for count in range(2, NUMBER_BUDGET + 1):
        assert resend(client, request_id).status_code == 202
        code_for(sms_gateway, count=count)
    assert resend(client, request_id).status_code == 202  # taken, then refused by the budget
    wait_for(lambda: status_of(client, request_id)["verification"] == "unavailable", timeout=15)
    assert len(sms_gateway.codes_to(PHONE)) == NUMBER_BUDGET
    assert stored_phones() == [PHONE]


def test_a_number_outside_the_mobile_prefixes_is_stored_and_sent_nothing(sms_app, sms_gateway):
    client = sms_app().test_client()
    landline = "02112345678"
    request_id = sign_up(client, landline)
    wait_for(lambda: status_of(client, request_id)["verification"] == "unavailable", timeout=15)
    assert sms_gateway.messages() == []
    assert stored_phones() == [landline]


def test_a_provider_down_never_loses_the_sign_up(sms_app, sms_gateway):
    sms_gateway.fail(503, 100)  # every try of the first send, retries included
    client = sms_app(verification_resend_cooldown=0).test_client()
    request_id = sign_up(client)
    assert stored_phones() == [PHONE]
    wait_for(lambda: sms_gateway.server.outbox.failures.__len__() <= 96, timeout=20)
    assert sms_gateway.messages() == []
    sms_gateway.reset()  # the provider is back: the visitor asks for a code again
    assert resend(client, request_id).status_code == 202
    assert verify(client, request_id, code_for(sms_gateway)).status_code == 200


def test_the_code_step_answers_404_while_verification_is_off(app, client):
    request_id = str(uuid.uuid4())
    assert_error(verify(client, request_id, "123456"), 404, "not_found")
    assert_error(resend(client, request_id), 404, "not_found")


def test_exports_stats_campaign_and_erasure_know_verified(sms_app, sms_gateway, settings):
    app = sms_app(verification_resend_cooldown=0)
    client = app.test_client()
    request_id = sign_up(client)
    other = sign_up(client, "09350000000")  # registered, never verified
    code = code_for(sms_gateway)
    assert verify(client, request_id, code).status_code == 200
    wait_for(verified_rows, timeout=15)

    with exports.connect(settings.database_url) as conn:
        out = io.StringIO()
        exports.write_csv(conn, exports.Filters(), out, lambda _: None)
    rows = {row["request_id"]: row for row in csv.DictReader(io.StringIO(out.getvalue()))}
    assert rows[request_id]["verified_at"] and rows[other]["verified_at"] == ""
    figures = stats.registrations(db, exports.Filters())
    assert (figures["total"], figures["verified"]) == (2, 1)

    dashboard = Client(create_dashboard(settings))
    html = dashboard.get("/dashboard/campaign/", headers=AUTH).get_data(as_text=True)
    assert re.search(r'id="verified">\s*1<', html)

    with redis.Redis.from_url(settings.redis_url) as store:
        budget = budgets_for(settings, store)
        assert store.exists(budget.number_key(PHONE), record_key(request_id)) == 2
        output = app.test_cli_runner().invoke(args=["erase-phone", PHONE])
        assert output.exit_code == 0, output.output
        assert not store.exists(budget.number_key(PHONE), record_key(request_id))
    assert [rid for rid, _ in verified_rows()] == []
    assert stored_phones() == ["09350000000"]
