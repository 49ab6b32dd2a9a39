"""Property: whatever a client sends, every sign-up answered 202 ends as exactly one row.

Generated bodies and headers go through the real API, a real worker and PostgreSQL: text
with lone surrogates, NUL and control characters, over-long values, junk and valid phones,
UUIDs in every form a client may write, and addresses with zones, IPv4-mapped, in lists
or junk. Nothing but the accepted sign-ups is stored, and every attempt reaches MongoDB.
"""

import ipaddress
import itertools
import json
import string
import unicodedata
import uuid
from ipaddress import ip_address

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError

from landing.schemas import normalize_phone
from landing.shared.db import Registration
from tests.support.services import wait_for
from tests.support.signups import PEER, dead_letters, status_of

# Generated requests. Each part comes with what the API should make of it, worked out here
# independently of the code under test.

ANY_CHARACTER = st.characters(codec=None, exclude_categories=())  # surrogates, NUL, controls
LATIN_1 = st.characters(codec="latin-1", exclude_characters="\r\n")  # what a header can carry
_phones = itertools.count()


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split(",")[0].strip())
    except ValueError:
        return False
    return True


def _expected(ip) -> str:
    return str(getattr(ip, "ipv4_mapped", None) or ip)


zones = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=8)
addresses = st.one_of(
    st.ip_addresses(v=4).map(lambda ip: (str(ip), str(ip))),
    st.ip_addresses(v=6).map(lambda ip: (ip.exploded.upper(), _expected(ip))),
    st.ip_addresses(v=6).map(lambda ip: (str(ip), _expected(ip))),
    st.tuples(st.ip_addresses(v=6), zones).map(lambda t: (f"{t[0]}%{t[1]}", _expected(t[0]))),
    st.ip_addresses(v=4).map(lambda ip: (f"::ffff:{ip}", str(ip))),
    st.text(LATIN_1, max_size=40).filter(lambda t: not _is_address(t)).map(lambda t: (t, None)),
)
# Addresses a trusted proxy would forward: not its own loopback, which it would skip.
outside = addresses.filter(lambda pair: pair[1] is None or not ip_address(pair[1]).is_loopback)
forwarded = st.one_of(
    st.none(),
    outside,
    # Only the rightmost entry counts (what our trusted proxy saw); a client's own go before.
    st.tuples(st.text(LATIN_1, max_size=30).filter(lambda t: "," not in t), outside).map(
        lambda t: (f"{t[0]}, {t[1][0]}", t[1][1])
    ),
)
peers = st.sampled_from(
    [(PEER, PEER), ("fe80::1%eth0", "fe80::1"), ("::ffff:10.9.8.7", "10.9.8.7")]
)
# A valid phone in one of its typed forms, filled in per request so no two are alike.
PHONE_FORMS = {
    "plain": lambda n: n,
    "+98": lambda n: "+98 " + n[1:4] + " " + n[4:],
    "0098": lambda n: "0098" + n[1:],
    "persian": lambda n: n.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),
    "dashes": lambda n: f"{n[:4]}-{n[4:7]}-{n[7:]}",
}


def _junk(phone: str) -> bool:
    try:
        normalize_phone(phone)
    except ValidationError:
        return True
    return False


junk_phones = st.one_of(st.text(ANY_CHARACTER, max_size=16).filter(_junk), st.integers(), st.none())
UUID_FORMS = {"plain": str, "hex": lambda u: u.hex, "upper": lambda u: str(u).upper()}
UUID_FORMS |= {"braces": lambda u: f"{{{u}}}", "urn": lambda u: u.urn}


def _not_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return True
    return False


def weighted(*choices: tuple[int, st.SearchStrategy]) -> st.SearchStrategy:
    """One of the strategies, each drawn about weight times in sum-of-weights examples.

    So most examples are accepted and reach PostgreSQL, while junk still comes often.
    """
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.integers(0, len(pool) - 1).flatmap(lambda i: pool[i])


STORABLE_CHARACTER = st.characters(codec="utf-8", exclude_categories=("Cc", "Cs"))
referrers = weighted(
    (1, st.just("absent")),
    (1, st.none()),
    (3, st.text(STORABLE_CHARACTER, max_size=40)),
    (2, st.text(ANY_CHARACTER, max_size=40)),
    (1, st.text(string.printable, max_size=40)),
    (1, st.tuples(st.integers(2040, 2060), st.sampled_from("a/é")).map(lambda t: t[1] * t[0])),
)
user_agents = st.text(LATIN_1, max_size=40) | st.text(LATIN_1, min_size=500, max_size=700)
requests = st.fixed_dictionaries(
    {
        "phone": weighted(
            (4, st.sampled_from(sorted(PHONE_FORMS))), (1, junk_phones.map(lambda p: ("junk", p)))
        ),
        "referrer": referrers,
        "request_id": weighted(
            (2, st.sampled_from(sorted(UUID_FORMS))),
            (2, st.none()),
            (1, st.text(ANY_CHARACTER, max_size=40).filter(_not_uuid).map(lambda t: ("junk", t))),
        ),
        "forwarded": forwarded,
        "peer": peers,
        "user_agent": user_agents,
        "utf8_body": st.booleans(),
    }
)


def _build(drawn: dict) -> tuple[dict, str | None]:
    """The request body, and the stored phone it should give (None: the phone is junk)."""
    body, phone = {}, None
    if isinstance(drawn["phone"], tuple):
        body["phone"] = drawn["phone"][1]
    else:
        phone = f"0912{next(_phones):07d}"
        body["phone"] = PHONE_FORMS[drawn["phone"]](phone)
    if drawn["referrer"] != "absent":
        body["referrer"] = drawn["referrer"]
    if isinstance(drawn["request_id"], tuple):
        body["request_id"] = drawn["request_id"][1]
    elif drawn["request_id"]:
        body["request_id"] = UUID_FORMS[drawn["request_id"]](uuid.uuid4())
    return body, phone


def _acceptable(body: dict, phone: str | None, size: int) -> bool:
    referrer = body.get("referrer")
    text_ok = referrer is None or (
        len(referrer) <= 2048 and not any(unicodedata.category(c) in ("Cc", "Cs") for c in referrer)
    )
    request_id_ok = "request_id" not in body or not _not_uuid(body["request_id"])
    return phone is not None and text_ok and request_id_ok and size <= 4096


def outcome(client, request_id: str) -> Registration:
    """The stored row, once the worker is done; fails at once if it gave the message up."""

    def done():
        row = Registration.get_or_none(Registration.request_id == request_id)
        return row or status_of(client, request_id) == "failed"

    row = wait_for(done)
    assert row is not True, "accepted, then dead-lettered: the worker could not store it"
    return row


def _check_row(row: Registration, body: dict, phone: str, drawn: dict) -> None:
    assert row.phone == phone
    assert row.referrer == body.get("referrer")
    # X-Forwarded-For counts only from a trusted proxy: the test client's own PEER.
    trusted = drawn["peer"][0] == PEER and drawn["forwarded"] is not None
    ip = (trusted and drawn["forwarded"][1]) or drawn["peer"][1]
    assert ipaddress.ip_address(row.ip_address) == ipaddress.ip_address(ip)
    agent = "".join(c for c in drawn["user_agent"] if unicodedata.category(c) != "Cc")
    assert row.user_agent == (agent[:512] or None)


def test_every_accepted_sign_up_is_stored_exactly_once(worker, make_app, mongo, broker):
    app = make_app(rate_limit="100000/minute")
    client = app.test_client()
    accepted: set[str] = set()
    sent = itertools.count(1)

    @settings(
        max_examples=80,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(drawn=requests)
    def one_request(drawn):
        body, phone = _build(drawn)
        if drawn["utf8_body"]:  # surrogates as bytes, invalid UTF-8 that json.loads still reads
            data = json.dumps(body, ensure_ascii=False).encode("utf-8", "surrogatepass")
        else:
            data = json.dumps(body).encode()
        headers = {"User-Agent": drawn["user_agent"]}
        if drawn["forwarded"] is not None:
            headers["X-Forwarded-For"] = drawn["forwarded"][0]
        response = client.post(
            "/api/register/",
            data=data,
            content_type="application/json",
            headers=headers,
            environ_base={"REMOTE_ADDR": drawn["peer"][0]},
        )
        next(sent)
        assert response.status_code in (202, 400, 413), response.data
        assert (response.status_code == 202) == _acceptable(body, phone, len(data)), response.data
        if response.status_code != 202:
            return
        request_id = response.json["request_id"]
        if "request_id" in body:
            assert request_id == str(uuid.UUID(body["request_id"]))
        row = outcome(client, request_id)
        accepted.add(request_id)
        _check_row(row, body, phone, drawn)
        assert Registration.select().count() == len(accepted)

    try:
        one_request()
        # Every request is one attempt-log document (202s by request_id, rejections fresh):
        # all of them BSON could encode. And nothing but the accepted ones was stored.
        total = next(sent) - 1
        wait_for(lambda: mongo.count_documents({}) == total, timeout=60, interval=0.2)
        assert {str(row.request_id) for row in Registration.select()} == accepted
        assert dead_letters("registrations") == dead_letters("attempts") == []
    finally:
        app.extensions["publisher"].close()
