"""The HTTP contract, through Flask's test client, on the real services (no worker running)."""

import hashlib
import json
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.local import free_port
from landing.schemas import PHONE_HELP
from landing.shared.db import Registration
from tests.support.http import assert_error, post

PHONE = "09123456789"


def test_accepted_registration_answers_202_with_status_location(client):
    response = post(client, {"phone": "+98 912 345 6789", "referrer": "spring-campaign"})
    assert response.status_code == 202
    request_id = response.json["request_id"]
    assert uuid.UUID(request_id).version == 4
    assert response.json["message"] == "Your phone number has been accepted."
    assert "verify_by" not in response.json  # no code step: the page has nothing to poll for
    assert response.headers["Location"] == f"/api/register/{request_id}"
    status = client.get(response.headers["Location"])
    assert status.status_code == 200
    assert status.json == {"request_id": request_id, "status": "queued"}


def test_the_status_location_keeps_the_prefix_the_app_is_mounted_under(client):
    response = client.post(
        "/api/register/", json={"phone": PHONE}, base_url="http://localhost/landing"
    )
    assert response.status_code == 202
    assert response.headers["Location"] == f"/landing/api/register/{response.json['request_id']}"


def test_accepted_message_is_in_rabbitmq_with_the_normalised_phone(client, broker):
    request_id = str(uuid.uuid4())
    response = post(client, {"phone": "۰۹۱۲-۳۴۵-۶۷۸۹", "request_id": request_id})
    assert response.status_code == 202
    assert response.json["request_id"] == request_id
    consumer = broker.consume("registrations", timeout=1000)
    message = next(consumer)
    consumer.close()
    # A batch of the sign-ups this process accepted meanwhile: here, this one alone.
    assert message.actor_name == "register_batch"
    [signup] = message.args[0]
    assert signup["phone"] == PHONE
    assert signup["request_id"] == request_id


def test_no_row_is_written_before_a_worker_runs(client, database):
    assert post(client, {"phone": PHONE}).status_code == 202
    assert Registration.select().count() == 0


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "12345"},
        {"phone": 9123456789},
        {},
        {"phone": PHONE, "unknown": 1},
        {"phone": PHONE, "request_id": "nope"},
        {"phone": PHONE, "referrer": "a\x07b"},
        [1],
        "x",
        None,
    ],
)
def test_invalid_bodies_answer_400_with_fields(client, body, broker):
    response = post(client, body)
    assert_error(response, 400, "invalid")
    assert isinstance(response.json["fields"], dict) and response.json["fields"]
    consumer = broker.consume("registrations", timeout=200)
    assert next(consumer) is None  # nothing was queued
    consumer.close()


def test_rate_limit_answers_429_with_retry_after(clean, make_app):

    client = make_app(rate_limit="2/hour").test_client()
    address = {"X-Forwarded-For": "203.0.113.7"}
    for _ in range(2):
        assert post(client, {"phone": PHONE}, headers=address).status_code == 202
    response = post(client, {"phone": PHONE}, headers=address)
    assert_error(response, 429, "rate_limited")
    assert 1 <= int(response.headers["Retry-After"]) <= 3600
    # Another address has its own bucket.
    other = post(client, {"phone": PHONE}, headers={"X-Forwarded-For": "203.0.113.8"})
    assert other.status_code == 202


def test_invalid_sign_ups_count_against_the_address_limit_too(clean, make_app):
    client = make_app(rate_limit="2/hour").test_client()
    address = {"X-Forwarded-For": "203.0.113.9"}
    assert post(client, {"phone": "12"}, headers=address).status_code == 400
    assert post(client, {"phone": PHONE}, headers=address).status_code == 202
    # Past the limit an invalid body is told to wait too, as a valid one is.
    assert_error(post(client, {"phone": "12"}, headers=address), 429, "rate_limited")
    assert_error(post(client, {"phone": "09350000002"}, headers=address), 429, "rate_limited")


def test_invalid_and_valid_sign_ups_share_the_window_once_redis_is_back(clean, make_app):
    """Counting a refused request used flask-limiter's shared state, which stayed in memory
    after any app had seen Redis down: the two kinds of request then counted apart."""
    down = make_app(redis_url=f"redis://127.0.0.1:{free_port()}/0").test_client()
    assert down.get(f"/api/register/{uuid.uuid4()}").status_code == 503  # Redis seen down
    address = {"X-Forwarded-For": "203.0.113.10"}
    client = make_app(rate_limit="2/hour").test_client()  # Redis up
    assert post(client, {"phone": "12"}, headers=address).status_code == 400
    assert post(client, {"phone": PHONE}, headers=address).status_code == 202
    assert_error(post(client, {"phone": "12"}, headers=address), 429, "rate_limited")


def test_limits_hold_per_process_while_redis_is_down(clean, make_app):
    down = f"redis://127.0.0.1:{free_port()}/0"
    client = make_app(rate_limit="2/hour", phone_rate_limit="1/hour", redis_url=down)
    client = client.test_client()
    by = lambda n: {"X-Forwarded-For": f"203.0.113.{n}"}  # noqa: E731
    assert post(client, {"phone": PHONE}, headers=by(20)).status_code == 202
    assert post(client, {"phone": PHONE}, headers=by(21)).status_code == 429  # the number's
    assert post(client, {"phone": "09350000003"}, headers=by(20)).status_code == 202
    assert post(client, {"phone": "09350000004"}, headers=by(20)).status_code == 429  # address


def test_rate_limit_keys_on_the_client_behind_trusted_proxies(clean, make_app):
    app = make_app(rate_limit="1/hour", trusted_proxies="127.0.0.0/8,10.0.0.0/8")
    client = app.test_client()
    first = post(client, {"phone": PHONE}, headers={"X-Forwarded-For": "198.51.100.1, 10.0.0.1"})
    assert first.status_code == 202
    limited = post(client, {"phone": PHONE}, headers={"X-Forwarded-For": "198.51.100.1, 10.0.0.2"})
    assert limited.status_code == 429


def test_a_client_reaching_gunicorn_directly_cannot_choose_its_address(clean, make_app):
    client = make_app(rate_limit="1/hour").test_client()
    outside = {"REMOTE_ADDR": "192.0.2.50"}  # not a trusted proxy
    forged = [{"X-Forwarded-For": f"198.51.100.{n}"} for n in (1, 2)]
    assert (
        post(client, {"phone": PHONE}, headers=forged[0], environ_base=outside).status_code == 202
    )
    limited = post(client, {"phone": PHONE}, headers=forged[1], environ_base=outside)
    assert_error(limited, 429, "rate_limited")


def test_an_ipv6_client_is_one_bucket_across_its_64(clean, make_app):
    client = make_app(rate_limit="1/hour").test_client()
    first, same_64, other_64 = "2001:db8:0:1::a", "2001:db8:0:1:ffff::b", "2001:db8:0:2::a"
    peer = lambda address: {"environ_base": {"REMOTE_ADDR": address}}  # noqa: E731
    assert post(client, {"phone": PHONE}, **peer(first)).status_code == 202
    assert post(client, {"phone": PHONE}, **peer(same_64)).status_code == 429
    assert post(client, {"phone": PHONE}, **peer(other_64)).status_code == 202


def test_an_ipv4_mapped_address_shares_the_ipv4_bucket(clean, make_app):
    client = make_app(rate_limit="1/hour").test_client()
    peer = lambda address: {"environ_base": {"REMOTE_ADDR": address}}  # noqa: E731
    assert post(client, {"phone": PHONE}, **peer("192.0.2.77")).status_code == 202
    assert post(client, {"phone": PHONE}, **peer("::ffff:192.0.2.77")).status_code == 429


def test_one_number_from_many_addresses_is_limited_per_phone(clean, make_app):
    client = make_app(phone_rate_limit="3/hour").test_client()
    sent = [
        post(client, {"phone": PHONE}, environ_base={"REMOTE_ADDR": f"192.0.2.{n}"})
        for n in range(1, 5)
    ]
    assert [response.status_code for response in sent] == [202, 202, 202, 429]
    assert_error(sent[-1], 429, "rate_limited")
    assert 1 <= int(sent[-1].headers["Retry-After"]) <= 3600
    assert PHONE not in sent[-1].get_data(as_text=True)
    other = post(client, {"phone": "09350000001"}, environ_base={"REMOTE_ADDR": "192.0.2.9"})
    assert other.status_code == 202


def test_a_numbers_counter_is_under_a_keyed_hash_and_a_new_key_resets_it(clean, make_app):
    app = make_app(phone_rate_limit="1/hour", limit_key_secret="first key")
    assert post(app.test_client(), {"phone": PHONE}).status_code == 202
    redis = app.extensions["results"].client
    keys = [key.decode() for key in redis.keys("*")]
    assert [key for key in keys if app.extensions["phone_keys"](PHONE) in key]
    unkeyed = hashlib.sha256(PHONE.encode()).hexdigest()
    for key in keys:
        assert unkeyed[:32] not in key and PHONE not in key, key
        if redis.type(key) == b"string":
            assert unkeyed[:32].encode() not in redis.get(key), key
    again = make_app(phone_rate_limit="1/hour", limit_key_secret="first key").test_client()
    assert post(again, {"phone": PHONE}).status_code == 429
    rotated = make_app(phone_rate_limit="1/hour", limit_key_secret="second key").test_client()
    assert post(rotated, {"phone": PHONE}).status_code == 202  # the limit starts over


def test_sign_ups_the_broker_could_not_take_do_not_use_the_numbers_allowance(clean, make_app):
    down = make_app(
        phone_rate_limit="1/hour",
        rabbitmq_url="amqp://guest:guest@127.0.0.1:1/%2F",
        publish_timeout=0.5,
    ).test_client()
    body = {"phone": PHONE, "request_id": str(uuid.uuid4())}
    assert [post(down, body).status_code for _ in range(3)] == [503, 503, 503]
    up = make_app(phone_rate_limit="1/hour").test_client()  # the same Redis counters
    assert post(up, body).status_code == 202
    assert post(up, {"phone": PHONE}).status_code == 429  # the one accepted sign-up counted


def test_status_lookups_are_rate_limited(clean, make_app):
    client = make_app(status_rate_limit="3/hour").test_client()
    answers = [client.get(f"/api/register/{uuid.uuid4()}").status_code for _ in range(4)]
    assert answers == [404, 404, 404, 429]


def test_unknown_request_id_answers_404(client):
    assert_error(client.get(f"/api/register/{uuid.uuid4()}"), 404, "not_found")


def test_ready_reports_every_service(client):
    response = client.get("/ready")
    assert response.status_code == 200, response.json
    assert response.json["checks"] == {
        "postgresql": "ok",
        "redis": "ok",
        "rabbitmq": "ok",
        "mongodb": "ok",
    }


def test_ready_answers_503_when_a_service_is_down(clean, make_app):

    client = make_app(rabbitmq_url="amqp://guest:guest@127.0.0.1:1/%2F").test_client()
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json["checks"]["rabbitmq"].startswith("error")
    assert response.json["checks"]["postgresql"] == "ok"


# Lone surrogates included: JSON's "\\ud800" escape makes one, and hypothesis's text leaves
# them out unless asked.
any_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=30)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
bodies = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"phone": json_values},
        optional={"referrer": json_values | any_text, "request_id": json_values},
    ),
    st.fixed_dictionaries({"phone": st.text(alphabet="0123456789۰۹+ -()", max_size=16)}),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(body=bodies, agent=st.text(max_size=40).filter(lambda t: "\n" not in t and "\r" not in t))
def test_no_client_input_causes_a_500(clean, make_app, body, agent):

    client = make_app(rate_limit="100000/hour").test_client()
    response = post(client, body, headers={"User-Agent": agent, "X-Forwarded-For": agent})
    assert response.status_code in (202, 400), response.data
    assert response.is_json


def nothing_queued(broker, queue="registrations") -> bool:
    consumer = broker.consume(queue, timeout=200)
    try:
        return next(consumer) is None
    finally:
        consumer.close()


def raw_utf8(body) -> bytes:
    """The body as UTF-8 bytes with surrogates written out as such (invalid UTF-8)."""
    return json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("encode", [json.dumps, raw_utf8], ids=["escaped", "raw-bytes"])
def test_a_lone_surrogate_in_the_referrer_answers_400_and_queues_nothing(client, broker, encode):
    body = {"phone": PHONE, "referrer": "camp\udc00aign"}
    response = client.post("/api/register/", data=encode(body), content_type="application/json")
    assert_error(response, 400, "invalid")
    assert response.json["fields"] == {"referrer": ["Must be valid Unicode text."]}
    assert nothing_queued(broker)


def test_a_lone_surrogate_phone_answers_the_phone_error_and_is_logged_cleaned(client, broker):
    response = post(client, {"phone": "\ud800"}, headers={"User-Agent": "bot\x00/\x9b1"})
    assert_error(response, 400, "invalid")
    assert response.json["fields"] == {"phone": [PHONE_HELP]}
    assert nothing_queued(broker)
    consumer = broker.consume("attempts", timeout=2000)
    message = next(consumer)
    consumer.close()
    [(attempt, [entry])] = message.args[0]  # a batch of one turned-away attempt
    assert entry["status"] == "INVALID"
    assert attempt["phone"] == "\ufffd" and attempt["user_agent"] == "bot/1"
    assert all(isinstance(v, str) and v.encode("utf-8") for v in attempt.values() if v)
