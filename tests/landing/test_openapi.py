"""The OpenAPI document against the real app: schemathesis drives gunicorn with generated
requests to every operation (and methods it does not list), and every answer must be
documented, status code, content type, headers and body, and none may be a 5xx.

The rate limits are raised so that generated sign-ups are not all answered 429; the
services are the tests' own (the `broker` fixture declares the queues a 202 needs).
"""

import json
from collections import Counter

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from landing.openapi import build_document
from tests.support.processes import http, running_gunicorn

UNLIMITED = "1000000/minute"
LIMITS = {"RATE_LIMIT": UNLIMITED, "PHONE_RATE_LIMIT": UNLIMITED, "STATUS_RATE_LIMIT": UNLIMITED}
EXAMPLES = 600  # per operation, both generation modes together; /health has one case
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    # A method the document does not list: 405 with Allow; OPTIONS: Allow as documented.
    unsupported_method,
    allow_header_conformance,
]
SEEN = Counter()  # (operation, status code) of every answer


@pytest.fixture(scope="module")
def web(tmp_path_factory, database, broker, mongo_server):
    with running_gunicorn(tmp_path_factory.mktemp("openapi"), env=LIMITS) as web:
        yield web
    # The generated sign-ups were never for a worker: leave the queues empty.
    broker.flush_all()


def _schema():
    # Loaded from the builder, not from the URL: the app is not running yet when pytest
    # collects (test_the_document_is_served_and_valid checks they are the same).
    loaded = schemathesis.openapi.from_dict(build_document())
    loaded.config.generation.update(
        modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
        max_examples=EXAMPLES,
        deterministic=True,
    )
    return loaded


schema = _schema()


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_documented(case, web):
    response = case.call_and_validate(base_url=web.url, checks=CHECKS)
    SEEN[case.operation.label, response.status_code] += 1


def test_enough_cases_ran():
    """The fuzzing above really ran (1,000 requests or more) and reached the answers that
    matter: sign-ups accepted and refused, statuses looked up and refused."""
    if not SEEN:
        pytest.skip("counts what test_every_answer_is_documented sent; run it first")
    assert SEEN.total() >= 1000, sorted(SEEN.items())
    for seen in [("POST /api/register/", 202), ("POST /api/register/", 400)]:
        assert SEEN[seen], seen
    for seen in [("GET /api/register/{request_id}", 404), ("GET /health", 200)]:
        assert SEEN[seen], seen


def test_a_status_answer_is_documented(web):
    """A sign-up's status (fuzzing finds none: it needs a request_id a 202 gave)."""
    status, _, text = http(f"{web.url}/api/register/", {"phone": "09123456789"})
    assert status == 202, text
    lookup = schema["/api/register/{request_id}"]["GET"]
    case = lookup.Case(path_parameters={"request_id": json.loads(text)["request_id"]})
    response = case.call_and_validate(base_url=web.url, checks=CHECKS)
    assert response.status_code == 200


def test_the_document_is_served_and_valid(web):
    status, headers, text = http(f"{web.url}/api/openapi.json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert json.loads(text) == build_document()
    schemathesis.openapi.from_url(f"{web.url}/api/openapi.json").validate()


def test_the_docs_page_is_self_contained(web):
    status, headers, page = http(f"{web.url}/api/docs")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    for operation in ("POST /api/register/", "GET /api/register/{request_id}", "GET /health"):
        assert operation in page
    for code in ("202", "400", "404", "413", "415", "429", "503", "Retry-After", "Location"):
        assert code in page
    # nginx's CSP (default-src 'none') would block anything the page loaded.
    for loads in ("<script", "<link", "<img", "<iframe", "style=", "<style", "http://", "https://"):
        assert loads not in page
