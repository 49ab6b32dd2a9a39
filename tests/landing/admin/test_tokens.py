"""ADMIN_TOKENS' entries and the scope each operator route needs, without a service."""

import pytest

from landing.admin.auth import SCOPES, parse_tokens
from tests.support.admin import DIGEST, OTHER_DIGEST

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


ALL = frozenset(SCOPES)


def test_a_bare_digest_grants_every_scope_as_before():
    assert parse_tokens(f" {DIGEST.upper()} , {OTHER_DIGEST}") == {DIGEST: ALL, OTHER_DIGEST: ALL}


def test_an_entry_names_its_scopes():
    tokens = parse_tokens(f"{DIGEST}:read+export, {OTHER_DIGEST}: erase ")
    assert tokens == {DIGEST: {"read", "export"}, OTHER_DIGEST: {"erase"}}


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("operator-token-for-tests", "SHA-256 digests"),
        (f"{DIGEST}:", "scopes are read, export, erase"),
        (f"{DIGEST}:read+delete", "scopes are"),
        (f"{DIGEST}:read,export", "SHA-256 digests"),  # `export` is read as a token
        (f"{OTHER_DIGEST}, {DIGEST}:read, {DIGEST}", "entry 3: that digest is already listed"),
    ],
)
def test_a_bad_entry_stops_the_start(raw, why):
    with pytest.raises(ValueError, match=why):
        parse_tokens(raw)


def test_every_operator_route_names_its_scope(make_app):
    app = make_app(admin_tokens=DIGEST)
    needed = {
        f"{' '.join(sorted(rule.methods - {'HEAD', 'OPTIONS'}))} {rule.rule}": getattr(
            app.view_functions[rule.endpoint], "admin_scope", None
        )
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("admin.")
    }
    assert needed == {
        "GET /api/admin/registrations": "read",
        "GET /api/admin/stats": "read",
        "POST /api/admin/exports": "export",
        "GET /api/admin/exports/<job_id>": "export",
        "GET /api/admin/exports/<job_id>/file": "export",
        "DELETE /api/admin/phones/<phone>": "erase",
    }


@pytest.mark.parametrize(
    ("scopes", "printed"), [(None, "read+export+erase"), ("export+read", "read+export")]
)
def test_hash_token_prints_an_entry_for_admin_tokens(make_app, scopes, printed):
    args = ["hash-token", *(["--scopes", scopes] if scopes else [])]
    result = make_app().test_cli_runner().invoke(args=args)
    lines = dict(line.split(": ", 1) for line in result.output.strip().splitlines())
    digest, entry = lines["digest"].strip(), lines["entry"].strip()
    assert lines["scopes"].strip() == printed
    assert entry == (f"{digest}:{printed}" if scopes else digest)
    assert parse_tokens(entry) == {digest: frozenset(printed.split("+"))}


def test_hash_token_refuses_an_unknown_scope(make_app):
    result = make_app().test_cli_runner().invoke(args=["hash-token", "--scopes", "read+drop"])
    assert result.exit_code != 0 and "read, export, erase" in result.output
