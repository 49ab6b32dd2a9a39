"""flask-limiter without its per-request hooks, and refused requests' count, through the app.

The app here has no service behind it, so flask-limiter and the gate both count in memory:
what is checked is that the status route's decorator still limits on its own, and that a
request refused before it became a sign-up is told to wait like a valid one.
"""

import uuid

import pytest
from flask import Flask

from landing.app import Landing
from tests.support.http import assert_error, post

pytestmark = pytest.mark.fast  # the fast tier: `make unit`

ADDRESS_LIMITED = "Too many attempts from your address; try again later."


def test_the_status_route_is_limited_by_its_decorator_alone(make_app):
    app = make_app(status_rate_limit="2/hour")
    # No flask-limiter hook runs (test_http_contract): the decorator's own check limits.
    client = app.test_client()
    answers = [client.get(f"/api/register/{uuid.uuid4()}") for _ in range(3)]
    assert [a.status_code for a in answers] == [503, 503, 429]  # Redis is nowhere: 503
    assert_error(answers[2], 429, "rate_limited")
    assert answers[2].json["message"] == ADDRESS_LIMITED
    assert 3590 <= int(answers[2].headers["Retry-After"]) <= 3600  # the hour's window
    assert "X-RateLimit-Limit" not in answers[2].headers


def test_an_invalid_sign_up_past_the_address_limit_is_told_to_wait(make_app):
    client = make_app(rate_limit="2/minute").test_client()
    assert post(client, {"phone": "12"}).status_code == 400
    assert post(client, {"phone": "12"}).status_code == 400
    limited = post(client, {"phone": "12"})
    assert_error(limited, 429, "rate_limited")
    assert limited.json["message"] == ADDRESS_LIMITED
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.status_code == post(client, {"phone": "09121110001"}).status_code  # shared


def test_the_app_declines_request_hooks_only_inside_the_block():
    app = Landing("declining")
    hook = lambda *args: None  # noqa: E731
    with app.declining_request_hooks():
        assert app.before_request(hook) is hook
        app.after_request(hook)
        app.teardown_request(hook)
    assert not app.before_request_funcs and not app.after_request_funcs
    assert not app.teardown_request_funcs
    app.before_request(hook)
    assert app.before_request_funcs[None] == [hook]
    assert isinstance(app, Flask)
