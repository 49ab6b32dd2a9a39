"""`flask --app landing erase-phone`: a number gone from every store, and nothing else."""

from actors.attempts import log_attempt
from landing.shared.db import Registration
from landing.shared.signup import History, history_entry, status_key
from tests.support.signups import attempt

PHONE, OTHER = "09123456789", "09350000000"


def test_erase_phone_removes_the_number_everywhere_and_nothing_else(app, workers, mongo):
    kept = attempt(OTHER)
    for sent in (attempt(PHONE), kept):
        workers.register(sent)  # a row, a status, and the outcome forwarded
        log_attempt(sent, [history_entry(History.QUEUED)])
    typed = ["+98 912-345-6789", "۰۹۱۲۳۴۵۶۷۸۹", "0098 (912) 3456789"]
    for raw in typed:  # turned-away attempts keep the number as it was typed
        log_attempt(attempt(raw), [history_entry(History.RATE_LIMITED)])
    results = app.extensions["results"]
    for sent in (attempt(PHONE), kept):
        results.client.set(results.build_message_key(status_key(sent["request_id"])), b"x")
    counter = f"LIMITS:LIMITER/{app.extensions['phone_keys'](PHONE)}/5/1/hour"
    results.client.set(counter, 1)

    output = app.test_cli_runner().invoke(args=["erase-phone", "0912 345 6789"])

    assert output.exit_code == 0, output.output
    assert "0912***6789: 1 registration(s), 4 attempt document(s)" in output.output
    assert PHONE not in output.output
    assert [row.phone for row in Registration.select()] == [OTHER]
    assert {doc["phone"] for doc in mongo.find()} == {OTHER}
    assert results.client.exists(counter) == 0
    kept_status = results.build_message_key(status_key(kept["request_id"]))
    assert results.client.exists(kept_status) == 1


def test_erase_phone_refuses_what_is_no_mobile_number(app):
    output = app.test_cli_runner().invoke(args=["erase-phone", "12345"])
    assert output.exit_code != 0
    assert "not a mobile number" in output.output
