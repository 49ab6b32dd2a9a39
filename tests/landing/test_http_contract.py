"""The HTTP contract where no service is involved: errors in one JSON shape, the visitor's
address and user agent as stored, the liveness probe."""

import uuid

import pytest

from tests.support.http import assert_error, post

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


PHONE = "09123456789"


def test_malformed_json_answers_400(client):
    response = client.post("/api/register/", data="{'phone':", content_type="application/json")
    assert_error(response, 400, "invalid")
    assert "_schema" in response.json["fields"]


def test_non_json_content_type_answers_415(client):
    response = client.post("/api/register/", data={"phone": PHONE})
    assert_error(response, 415, "unsupported_media_type")


def test_body_over_4_kib_answers_413(client):
    response = post(client, {"phone": PHONE, "referrer": "x" * 5000})
    assert_error(response, 413, "too_large")


def test_unknown_route_and_wrong_method_answer_json(client):
    assert_error(client.get("/nowhere"), 404, "not_found")
    assert_error(client.put("/api/register/"), 405, "method_not_allowed")


def test_malformed_request_id_answers_400(client):
    assert_error(client.get("/api/register/not-a-uuid"), 400, "invalid")


def test_health_touches_nothing(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_ready_answers_503_naming_each_service_that_is_down(client):
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    checks = response.json["checks"]
    assert set(checks) == {"postgresql", "redis", "rabbitmq", "mongodb"}
    assert all(state.startswith("error: ") for state in checks.values()), checks


def test_a_sign_up_the_broker_cannot_confirm_answers_503_with_retry_after(client):
    response = post(client, {"phone": PHONE, "request_id": str(uuid.uuid4())})
    assert_error(response, 503, "unavailable")
    assert int(response.headers["Retry-After"]) >= 1


def test_user_agent_loses_control_characters_postgres_would_refuse(app):
    from landing.visitor import user_agent

    with app.test_request_context(headers={"User-Agent": "bot\x00/1\x07" + "x" * 600}):
        agent = user_agent()
    assert agent.startswith("bot/1x") and len(agent) == 512


def test_forged_garbage_in_x_forwarded_for_falls_back_to_the_peer(app):
    from landing.visitor import client_ip

    headers = {"X-Forwarded-For": "'; DROP TABLE--, 10.0.0.1"}
    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.4"}):
        assert client_ip() == "192.0.2.4"


@pytest.mark.parametrize(
    ("forwarded", "peer", "address", "bucket"),
    [
        ("fe80::1%eth0", "127.0.0.1", "fe80::1", "fe80::/64"),
        (None, "fe80::1%eth0", "fe80::1", "fe80::/64"),  # gunicorn reached over link-local
        ("::ffff:10.1.2.3", "127.0.0.1", "10.1.2.3", "10.1.2.3"),
        (None, "::ffff:10.1.2.3", "10.1.2.3", "10.1.2.3"),
        ("fe80::1%, 10.0.0.1", "127.0.0.1", "10.0.0.1", "10.0.0.1"),
        ("2001:db8:1:2:3:4:5:6", "127.0.0.1", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        # From a peer that is not a trusted proxy, X-Forwarded-For is the client's own word.
        ("203.0.113.7", "192.0.2.4", "192.0.2.4", "192.0.2.4"),
        ("junk", "not an address", None, "unknown"),
    ],
)
def test_client_ip_is_what_postgres_inet_takes(app, forwarded, peer, address, bucket):
    from landing.visitor import client_ip, rate_limit_key

    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    with app.test_request_context(headers=headers, environ_base={"REMOTE_ADDR": peer}):
        assert client_ip() == address
        assert rate_limit_key() == bucket


@pytest.mark.parametrize(
    ("forwarded", "client"),
    [
        ("198.51.100.1", "198.51.100.1"),
        ("198.51.100.1, 10.0.0.1", "198.51.100.1"),  # 10.0.0.1 is a trusted proxy too
        ("198.51.100.1, 203.0.113.9", "203.0.113.9"),  # the nearest untrusted entry counts
        ("198.51.100.1, junk, 10.0.0.1", "10.0.0.1"),  # the walk ends at what is no address
        ("", "127.0.0.1"),
    ],
)
def test_forwarded_for_is_read_from_the_right_through_trusted_proxies(forwarded, client):
    from landing.visitor import forwarded_client, trusted_networks

    trusted = trusted_networks("127.0.0.0/8, ::1/128, 10.0.0.0/8")
    assert forwarded_client("127.0.0.1", forwarded, trusted) == client


def test_a_typed_unknown_field_is_not_echoed_back(client):
    phone_as_key = "09121234567"
    response = post(client, {"phone": "09123456789", phone_as_key: 1, "extra": 2})
    assert_error(response, 400, "invalid")
    assert phone_as_key not in response.get_data(as_text=True)
    assert "extra" not in response.get_data(as_text=True)
    assert response.json["fields"]["_schema"]


def test_the_app_remembers_its_functions_sync_wrappers_but_not_without_bound(app):
    seen_before = len(app._sync)
    app.test_client().get("/health")
    assert len(app._sync) > seen_before  # the view and hooks it ran
    for _ in range(2 * app.REMEMBERED):
        app.ensure_sync(lambda: None)  # e.g. after_this_request's, one per request
    assert len(app._sync) == app.REMEMBERED


def test_no_flask_limiter_hook_runs_around_every_request(app):
    hooks = [
        *app.before_request_funcs[None],
        *app.after_request_funcs[None],
        *app.teardown_request_funcs[None],
    ]
    owners = {getattr(getattr(hook, "func", hook), "__module__", "") for hook in hooks}
    assert not [owner for owner in owners if owner.startswith("flask_limiter")]
