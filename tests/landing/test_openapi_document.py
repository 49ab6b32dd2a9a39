"""The OpenAPI document, with no service: it is valid OpenAPI 3.1, says what the marshmallow
schemas say, lists every status code and header, and the app's answers with every service
down (503s, refusals, limits) conform to it."""

import uuid

import jsonschema
import pytest
import schemathesis
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from landing.error_body import code_for
from landing.openapi import build_document
from landing.schemas import RegistrationSchema
from tests.support.http import post

# schemathesis alone takes over a second to import: kept out of the fast tier.
pytestmark = pytest.mark.offline


DOCUMENT = build_document()
SCHEMA = schemathesis.openapi.from_dict(DOCUMENT)
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
REGISTER, STATUS = ("/api/register/", "post"), ("/api/register/{request_id}", "get")
CHALLENGE = ("/api/challenge", "get")
ANSWERS = {
    REGISTER: {"202", "400", "403", "409", "413", "415", "429", "503"},
    STATUS: {"200", "400", "404", "429", "503"},
    CHALLENGE: {"200", "429"},
    ("/health", "get"): {"200"},
    ("/api/register/{request_id}/verify", "post"): {
        "200",
        "400",
        "404",
        "410",
        "413",
        "429",
        "503",
    },
    ("/api/register/{request_id}/resend", "post"): {"202", "400", "404", "429", "503"},
}
PHONE = "09123456789"


def responses(path: str, method: str) -> dict:
    return {code: _resolve(r) for code, r in DOCUMENT["paths"][path][method]["responses"].items()}


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        _, *parts = node["$ref"].split("/")
        node = DOCUMENT
        for part in parts:
            node = node[part]
    return node


def _refs(node):
    if isinstance(node, dict):
        yield from [node["$ref"]] if "$ref" in node else []
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def test_the_document_is_valid_openapi_3_1():
    SCHEMA.validate()
    assert DOCUMENT["openapi"] == "3.1.0"
    for schema in DOCUMENT["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)
    for ref in _refs(DOCUMENT):
        assert _resolve({"$ref": ref}), ref


def test_every_operation_and_status_code_is_documented():
    assert {(p, m) for p, item in DOCUMENT["paths"].items() for m in item} == set(ANSWERS)
    for (path, method), codes in ANSWERS.items():
        assert set(responses(path, method)) == codes, (path, method)


def test_every_answer_documents_its_headers_and_json_body():
    for path, method in ANSWERS:
        for code, response in responses(path, method).items():
            headers = set(response["headers"])
            assert "X-Request-ID" in headers
            assert ("Retry-After" in headers) == (code in {"429", "503"}), (path, code)
            assert ("Location" in headers) == (code == "202"), (path, code)
            assert set(response["content"]) == {"application/json"}


def test_every_error_body_names_its_code():
    for path, method in ANSWERS:
        for code, response in responses(path, method).items():
            body = response["content"]["application/json"]["schema"]
            if code == "403":  # a sign-up's challenge: codes of its own (landing/admission)
                error = {"enum": ["challenge_required", "challenge_invalid"]}
                assert body["properties"]["error"] == error
            elif int(code) >= 400:
                assert body["properties"]["error"] == {"const": code_for(int(code))}
                shape = _resolve(body["allOf"][0])
                assert {"error", "message"} <= set(shape["required"])
                invalid_signup = (path, method, code) == (*REGISTER, "400")
                assert ("fields" in shape["required"]) == invalid_signup


def test_the_request_body_is_registration_schema_and_closed():
    body = _resolve(DOCUMENT["components"]["schemas"]["Registration"])
    assert set(body["properties"]) == set(RegistrationSchema().fields)
    assert body["required"] == ["phone"]
    # An unknown field is a 400 (documented), so the document must not allow it.
    assert body["additionalProperties"] is False


def _validate(client, operation: tuple[str, str], response):
    path, method = operation
    sent = {"request_id": response.request.path.rsplit("/", 1)[1]} if "{" in path else {}
    made = SCHEMA[path][method.upper()].Case(path_parameters=sent)
    made.validate_response(response, checks=CHECKS)
    return response.status_code


def test_answers_without_services_conform(client):
    """With every service down: refusals, 503s and the liveness probe, as documented."""
    cases = [
        (REGISTER, post(client, {"phone": PHONE}), 503),
        (REGISTER, post(client, {"phone": "12", "extra": 1}), 400),
        (REGISTER, post(client, {"phone": PHONE, "referrer": "x" * 5000}), 413),
        (REGISTER, client.post("/api/register/", data={"phone": PHONE}), 415),
        (STATUS, client.get("/api/register/nope"), 400),
        (CHALLENGE, client.get("/api/challenge"), 200),
        (("/health", "get"), client.get("/health"), 200),
    ]
    for operation, response, expected in cases:
        assert _validate(client, operation, response) == expected, response.json


def test_a_status_lookup_without_redis_conforms(client):
    response = client.get(f"/api/register/{uuid.uuid4()}")
    assert _validate(client, STATUS, response) == 503


@pytest.mark.parametrize(
    ("operation", "request_"),
    [
        (REGISTER, lambda c: post(c, {"phone": PHONE})),
        (STATUS, lambda c: c.get("/api/register/nope")),
        (CHALLENGE, lambda c: c.get("/api/challenge")),
    ],
)
def test_rate_limited_answers_conform(make_app, operation, request_):
    limits = {"rate_limit": "1/hour", "status_rate_limit": "1/hour"}
    client = make_app(**limits, challenge_rate_limit="1/hour").test_client()
    request_(client)
    assert _validate(client, operation, request_(client)) == 429


@pytest.mark.parametrize(
    ("altcha", "code"),
    [(None, "challenge_required"), ("bm90IGEgc29sdXRpb24=", "challenge_invalid")],
)
def test_a_sign_up_refused_for_its_challenge_conforms(make_app, altcha, code):
    client = make_app(challenge_mode="always").test_client()
    response = post(client, {"phone": PHONE, "altcha": altcha})
    assert _validate(client, REGISTER, response) == 403 and response.json["error"] == code


def test_the_docs_page_renders_every_operation(client):
    page = client.get("/api/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    operations = ("POST /api/register/", "GET /api/register/{request_id}", "GET /api/challenge")
    for operation in (*operations, "GET /health"):
        assert operation in page.text
    assert "<script" not in page.text and "<link" not in page.text
    assert client.get("/api/openapi.json").json == DOCUMENT
