"""One error shape, one table of codes: the builder refuses a code it does not list, and
every code written anywhere (our servers' calls, gunicorn's table, nginx.conf) is listed
for the status it is answered with."""

import ast
import json
import re
from pathlib import Path

import pytest

from landing.error_body import CODES, code_for, error_body
from landing.server import answers

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


ROOT = Path(__file__).resolve().parents[2]
BUILDERS = {"error_body", "error_response", "handler_error"}
CODE = re.compile(r"[a-z_]+")  # a code; a message has capitals, spaces or punctuation


def test_the_shape_is_error_message_and_extra_keys_beside_them():
    body = error_body(400, "Some fields are not valid.", fields={"phone": ["Required."]})
    assert body == {
        "error": "invalid",
        "message": "Some fields are not valid.",
        "fields": {"phone": ["Required."]},
    }
    assert list(body) == ["error", "message", "fields"]
    assert error_body(409, "The export is running.", "not_ready")["error"] == "not_ready"


@pytest.mark.parametrize(
    ("status", "code"),
    [(400, "csrf"), (400, "bad_request"), (500, "error"), (404, "gone"), (409, "timeout")],
)
def test_a_code_not_listed_for_its_status_is_refused(status, code):
    with pytest.raises(ValueError, match="not listed"):
        error_body(status, "text", code)


@pytest.mark.parametrize("key", ["error", "message"])
def test_extra_keys_cannot_replace_the_code_or_message(key):
    with pytest.raises(ValueError):
        error_body(400, "text", **{key: "other"})


def test_each_status_has_its_own_code_and_unlisted_ones_their_class():
    for code, statuses in CODES.items():
        assert CODE.fullmatch(code) and statuses
        for status in statuses:
            assert code_for(status) in CODES and status in CODES[code_for(status)]
    assert code_for(409) == "conflict" and code_for(504) == "timeout"
    assert code_for(416) == "invalid" and code_for(418) == "invalid"
    assert code_for(507) == "internal"


def test_a_body_for_every_status_is_built_without_naming_a_code():
    for status in [*range(400, 432), *range(500, 512)]:
        assert error_body(status, "text")["error"] in CODES


def calls_naming_codes():
    """(where, status or None, code) for each literal code passed to a builder in landing/."""
    for path in sorted((ROOT / "landing").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name not in BUILDERS:
                continue
            values = [*node.args, *(k.value for k in node.keywords)]
            literals = [v.value for v in values if isinstance(v, ast.Constant)]
            status = next((v for v in literals if isinstance(v, int)), None)
            for code in (v for v in literals if isinstance(v, str) and CODE.fullmatch(v)):
                yield f"{path.relative_to(ROOT)}:{node.lineno}", status, code


def test_every_code_our_servers_name_is_listed_for_its_status():
    found = list(calls_naming_codes())
    named = {code for _, _, code in found}
    # The dashboard's and the operator API's own codes are among them: the scan sees them.
    assert {"forbidden", "rate_limited", "unauthorized", "gone", "not_ready"} <= named
    for where, status, code in found:
        assert code in CODES, where
        assert status is None or status in CODES[code], where


def test_every_answer_gunicorn_writes_is_listed():
    listed = [row[1:] for row in answers.CLIENT_ERRORS]
    for status, code, message in [*listed, answers.INTERNAL, answers.WRONG_VERSION]:
        assert error_body(status, message, code) == {"error": code, "message": message}


def test_every_body_nginx_writes_is_one_the_builder_would():
    written = re.findall(r"return (\d{3}) '(\{.*\})\\n';", (ROOT / "nginx.conf").read_text())
    assert len(written) >= 10
    for status, text in written:
        body = json.loads(text)
        assert body == error_body(int(status), body["message"], body["error"]), text
