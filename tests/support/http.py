"""Requests and answers through Flask's test client, as the API's tests make and read them."""

import json


def post(client, body, **kwargs):
    """POST body as JSON to the registration endpoint."""
    return client.post(
        "/api/register/", data=json.dumps(body), content_type="application/json", **kwargs
    )


def assert_error(response, status: int, code: str) -> None:
    """The response is the API's one error shape, with this status and code."""
    assert response.status_code == status
    assert response.is_json, response.data
    assert response.json["error"] == code
    assert response.json["message"]
