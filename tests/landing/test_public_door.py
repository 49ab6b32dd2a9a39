"""The public door against hostile clients: our nginx.conf and gunicorn.conf.py, for real.

One stack for the module: gunicorn, and three nginx in front of it, each our nginx.conf
beside its own listen.conf:
  plain  HTTP on 127.0.0.1, as test_stack.py runs it;
  tls    HTTPS with a self-signed pair (scripts/self-signed-cert.sh), plain HTTP redirecting;
  probe  HTTP on 127.0.0.1, [::1] and a dual-stack socket, plus a test-only part: a request
         from 127.0.0.1 names the client it stands for in X-Test-Peer (nginx's realip, which
         turns it into canonical text as it does any address), and every answer shows the
         keys nginx gave the client, so nginx's own maps are checked against Python's.
Hostile cases go both through nginx and straight at gunicorn (compose never publishes it,
but it is reachable inside the network). Each test uses its own client addresses, so no
test spends another's limits.
"""

import ipaddress
import itertools
import json
import socket
import ssl
import uuid
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.door import nginx_command, render_nginx
from harness.local import free_port
from landing.shared.db import Registration
from tests.support.door import (
    GUNICORN,
    exchange,
    free_port_v6,
    request,
    self_signed_pair,
    serving,
    start,
    trusting,
)
from tests.support.services import wait_for

PHONE = "09123456789"
BODY = json.dumps({"phone": "09125550142"}).encode()
# nginx's and gunicorn's limits on a silent or slow client (nginx.conf, gunicorn.conf.py)
# are 5 s; a socket must be closed within them plus this much.
MARGIN = 2.0


@dataclass
class Door:
    web: int  # gunicorn, straight
    plain: int
    https: int
    http: int  # the TLS nginx's plain HTTP port
    probe: int
    probe_v6: int  # [::1]
    probe_mapped: int  # [::ffff:127.0.0.1], dual-stack: IPv4 clients arrive as ::ffff:a.b.c.d
    cert: Path
    folder: Path

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text()

    def access_lines(self, name: str) -> list[dict]:
        """nginx's or gunicorn's access lines in its log (the rest: error lines)."""
        lines = [json.loads(line) for line in self.log(name).splitlines() if line.startswith("{")]
        return [line for line in lines if {"path", "status"} <= set(line)]


@pytest.fixture(scope="module")
def door(tmp_path_factory, database, broker, mongo_server):
    folder = tmp_path_factory.mktemp("door")
    cert, key = self_signed_pair(folder / "tls")
    ports = Door(
        web=free_port(),
        plain=free_port(),
        https=free_port(),
        http=free_port(),
        probe=free_port(),
        probe_v6=free_port_v6(),
        probe_mapped=free_port(),
        cert=cert,
        folder=folder,
    )
    listens = {
        "plain": f"listen 127.0.0.1:{ports.plain};\n",
        "tls": (
            f"listen 127.0.0.1:{ports.https} ssl;\n"
            f"ssl_certificate {cert};\n"
            f"ssl_certificate_key {key};\n"
            f"listen 127.0.0.1:{ports.http};\n"
            f"set $tls_redirect https://$host:{ports.https};\n"
        ),
        "probe": (
            f"listen 127.0.0.1:{ports.probe};\n"
            f"listen [::1]:{ports.probe_v6};\n"
            f"listen [::ffff:127.0.0.1]:{ports.probe_mapped} ipv6only=off;\n"
            "set_real_ip_from 127.0.0.1;\n"
            "real_ip_header X-Test-Peer;\n"
            "add_header X-Test-Remote-Addr $remote_addr always;\n"
            "add_header X-Test-Client-Key $client_key always;\n"
            "add_header X-Test-Client-Network $client_network always;\n"
        ),
    }
    processes = [
        start(
            GUNICORN,
            folder / "gunicorn.log",
            WEB_BIND=f"127.0.0.1:{ports.web}",
            WEB_WORKERS="2",
            # The app's own limits stay out of the way: these tests are about the door's.
            RATE_LIMIT="100000/minute",
            STATUS_RATE_LIMIT="100000/minute",
        )
    ]
    for name, listen in listens.items():
        config = render_nginx(folder / name, ports.web, listen)
        processes.append(start(nginx_command(config), folder / f"{name}.log"))

    def ready():
        return all(
            answer.status == 200
            for answer in (
                request(ports.web, "GET", "/health", client="127.0.0.1"),
                request(ports.plain, "GET", "/health", client="127.0.0.1"),
                request(ports.probe, "GET", "/health", client="127.0.0.1"),
                request(ports.https, "GET", "/health", tls=trusting(cert), hostname="localhost"),
            )
        )

    with serving(processes, ready):
        yield ports


# --- One client, one key: IPv4, IPv4-mapped, and an IPv6 client's /64 ------------------


def expected_key(text: str) -> tuple[str, str]:
    """(limit key, logged network) for an address, computed by Python's ipaddress."""
    address = ipaddress.ip_address(text)
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        return str(address), str(address).rsplit(".", 1)[0] + ".0"
    groups = [format(int(group, 16), "x") for group in address.exploded.split(":")[:4]]
    return ":".join(groups), ":".join(groups[:3]) + "::"


def every_place_for_zeros() -> list[str]:
    """One address for each way its eight groups can be zero or not (256), so "::" stands
    for every run it can, wherever it can, as nginx writes it (plus a few by hand)."""
    values = ["2001", "db8", "a", "bc", "d00d", "f", "1234", "fffe"]
    addresses = []
    for zeros in itertools.product((False, True), repeat=8):
        groups = ["0" if zero else value for zero, value in zip(zeros, values, strict=True)]
        addresses.append(":".join(groups))
    return [
        *addresses,
        "2001:db8::1",
        "2001:db8:1:2:3:4:5:6",
        "2001:db8::5:6:7:8:9",
        "2001:0DB8:0000:0000:0000:0000:0000:0001",  # not canonical: nginx makes it so
        "2001:db8:0:0:1::1",  # two runs of zeros: the first is "::"
        "fe80::1",
        "::1",
        "::",
        "::ffff:192.0.2.7",
        "::192.0.2.7",
        "64:ff9b::192.0.2.7",
        "192.0.2.7",
    ]


def probe_keys(door: Door, peer: str) -> tuple[str, str]:
    answer = request(
        door.probe, "GET", "/nowhere", client="127.0.0.1", headers={"X-Test-Peer": peer}
    )
    assert answer.status == 404 and answer.json["error"] == "not_found"
    return answer.headers["X-Test-Client-Key"], answer.headers["X-Test-Client-Network"]


def test_every_ipv6_client_is_keyed_by_its_64_as_python_computes_it(door):
    mismatches = {}
    for peer in every_place_for_zeros():
        got, wanted = probe_keys(door, peer), expected_key(peer)
        if got != wanted:
            mismatches[peer] = (got, wanted)
    assert not mismatches


def test_real_ipv6_and_ipv4_mapped_connections_get_their_keys(door):
    # ::1 over IPv6 for real; 127.0.0.9 through a dual-stack socket arrives as ::ffff:127.0.0.9.
    v6 = request(door.probe_v6, "GET", "/nowhere", client=None, address="::1")
    assert v6.headers["X-Test-Remote-Addr"] == "::1"
    assert v6.headers["X-Test-Client-Key"] == "0:0:0:0"
    mapped = request(door.probe_mapped, "GET", "/nowhere", client="127.0.0.9")
    assert mapped.headers["X-Test-Remote-Addr"] == "::ffff:127.0.0.9"
    assert mapped.headers["X-Test-Client-Key"] == "127.0.0.9"
    assert mapped.headers["X-Test-Client-Network"] == "127.0.0.0"
    # nginx writes the access line once the answer is sent: wait for both.
    wait_for(
        lambda: (
            {"0:0:0::", "127.0.0.0"}
            <= {line["client_network"] for line in door.access_lines("probe")}
        )
    )
    # The access log holds networks, never an address.
    assert "::ffff:127.0.0.9" not in door.log("probe") and "127.0.0.9" not in door.log("probe")


def flood(door: Door, n: int, port: int | None = None, **how) -> list:
    """n requests nginx limits (GET /api/register/: limit_req, then the app's 405)."""
    return [
        request(port or door.probe, "GET", "/api/register/", **{"client": "127.0.0.1", **how})
        for _ in range(n)
    ]


def test_one_64_is_one_client_for_the_request_limit(door):
    # 40 addresses of one /64 (burst 20): the 64 runs out, as one client would.
    answers = [
        request(
            door.probe,
            "GET",
            "/api/register/",
            client="127.0.0.1",
            headers={"X-Test-Peer": f"2001:db8:77:1::{n:x}"},
        )
        for n in range(1, 41)
    ]
    limited = [answer for answer in answers if answer.status == 429]
    assert limited, [answer.status for answer in answers]
    assert limited[0].json == {
        "error": "rate_limited",
        "message": "Too many requests; try again shortly.",
    }
    assert limited[0].headers["Retry-After"] == "1"
    # The next /64 is another client, and an answer from the app carries no Retry-After.
    other = request(
        door.probe,
        "GET",
        "/api/register/",
        client="127.0.0.1",
        headers={"X-Test-Peer": "2001:db8:77:2::1"},
    )
    assert other.status == 405 and "Retry-After" not in other.headers


def test_a_sign_up_without_the_trailing_slash_is_limited_too(door, clean):
    # The app takes POST /api/register as a sign-up (here an empty one: 400).
    answers = [
        request(door.plain, "POST", "/api/register", b"{}", client="127.0.0.14") for _ in range(40)
    ]
    assert {answer.status for answer in answers} == {400, 429}


def test_an_ipv4_client_is_one_client_through_a_dual_stack_socket_too(door):
    mapped = flood(door, 40, door.probe_mapped, client="127.0.0.11")
    assert any(answer.status == 429 for answer in mapped)
    # The same client over plain IPv4 finds its bucket spent; its neighbour does not.
    assert flood(door, 1, door.probe, client="127.0.0.11")[0].status == 429
    assert flood(door, 1, door.probe, client="127.0.0.12")[0].status == 405


def test_a_real_ipv6_client_is_limited(door):
    answers = flood(door, 40, door.probe_v6, client=None, address="::1")
    assert any(answer.status == 429 for answer in answers)
    assert flood(door, 1, door.probe, client="127.0.0.13")[0].status == 405


# --- Connections per client, and clients too slow or silent ---------------------------


def held_post(port: int, client: str) -> socket.socket:
    """A POST whose headers are sent and whose body never comes: a request in progress."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(client, 0))
    sock.sendall(
        b"POST /api/register/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: 23\r\n\r\n"
    )
    return sock


def test_one_client_has_at_most_20_requests_in_progress(door):
    assert request(door.plain, "GET", "/health", client="127.0.0.21").status == 200
    # 20 fill the client's share; a spare or two stand in for any nginx has not counted yet.
    held = [held_post(door.plain, "127.0.0.21") for _ in range(22)]
    try:

        def refused():
            answer = request(door.plain, "GET", "/health", client="127.0.0.21")
            return answer if answer.status == 429 else None

        answer = wait_for(refused, timeout=4)
        assert answer.json == {
            "error": "rate_limited",
            "message": "Too many requests; try again shortly.",
        }
        assert answer.headers["Retry-After"] == "1"
        assert request(door.plain, "GET", "/health", client="127.0.0.22").status == 200
    finally:
        for sock in held:
            sock.close()
    wait_for(lambda: request(door.plain, "GET", "/health", client="127.0.0.21").status == 200)


POST_HEAD = (
    b"POST /api/register/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\n\r\n" % len(BODY)
)


def test_slow_and_silent_clients_are_cut_off_within_bounds(door, clean):
    """All at once, each on its own socket: a header or a body sent a byte a second, a new
    connection that never speaks, a keep-alive connection left idle, through nginx and
    straight at gunicorn. A body is cut (408) after 5 s, however steadily it trickles."""
    slow_header = (b"GET /health HTTP/1.1\r\nHost: x\r\n", b"X-Slow: " + b"a" * 30)
    cases = {
        "nginx slow header": (door.plain, "127.0.0.31", *slow_header),
        "nginx slow body": (door.plain, "127.0.0.32", POST_HEAD, BODY),
        "nginx silent": (door.plain, "127.0.0.33", b"", b""),
        "nginx idle keep-alive": (
            door.plain,
            "127.0.0.34",
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
            b"",
        ),
        "gunicorn slow header": (door.web, "127.0.0.35", *slow_header),
        "gunicorn slow body": (door.web, "127.0.0.36", POST_HEAD, BODY),
        "gunicorn silent": (door.web, "127.0.0.37", b"", b""),
        "gunicorn idle keep-alive": (
            door.web,
            "127.0.0.38",
            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n",
            b"",
        ),
    }

    def run(case):
        port, client, data, trickle = case
        return exchange(port, data, client=client, trickle=trickle, timeout=15)

    with ThreadPoolExecutor(len(cases)) as pool:
        answers = dict(zip(cases, pool.map(run, cases.values()), strict=True))
    for name, answer in answers.items():
        # nginx lingers up to 2 s after an early answer, reading what the client still sends.
        bound = 5 + MARGIN + (2 if name == "nginx slow body" else 0)
        assert answer.closed and answer.seconds < bound, (name, answer.seconds)
        if "slow body" in name:
            assert answer.status == 408, (name, answer.data)
            assert answer.json == {
                "error": "timeout",
                "message": "The request took too long to arrive.",
            }
            assert answer.answered_after < 5 + MARGIN, (name, answer.answered_after)
        elif "keep-alive" in name:
            assert answer.status == 200, (name, answer.data)
            assert answer.seconds > 3, (name, answer.seconds)  # idle for a while first
        else:
            assert answer.status in (None, 408), (name, answer.data)
    assert Registration.select().count() == 0


# --- Every error the door answers itself: JSON, the right status, never a 500 ----------


@dataclass(frozen=True)
class Case:
    data: bytes
    nginx: tuple[int, str]
    gunicorn: tuple[int, str]


def post(extra: bytes, body: bytes = b"") -> bytes:
    return (
        b"POST /api/register/ HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Connection: close\r\n" + extra + b"\r\n" + body
    )


def get(path=b"/health", version=b"HTTP/1.1", method=b"GET", extra=b"") -> bytes:
    return b"%s %s %s\r\nHost: x\r\nConnection: close\r\n%s\r\n" % (method, path, version, extra)


INVALID = (400, "invalid")
CASES = {
    "malformed request line": Case(b"GARBAGE\r\n\r\n", INVALID, INVALID),
    "request line of spaces": Case(b"GET  /health  HTTP/1.1\r\n\r\n", INVALID, INVALID),
    "very long URI": Case(get(b"/" + b"a" * 20_000), (414, "uri_too_long"), (414, "uri_too_long")),
    # Under nginx's 8k, over gunicorn's 4094: gunicorn's answer comes through nginx.
    "long URI": Case(get(b"/api/" + b"a" * 6000), (414, "uri_too_long"), (414, "uri_too_long")),
    "header too large": Case(
        get(extra=b"X-Big: " + b"a" * 20_000 + b"\r\n"),
        (431, "headers_too_large"),
        (431, "headers_too_large"),
    ),
    "too many headers": Case(
        get(b"/api/register/", extra=b"".join(b"X-H%d: v\r\n" % n for n in range(200))),
        (431, "headers_too_large"),
        (431, "headers_too_large"),
    ),
    "TRACE": Case(
        get(b"/api/register/", method=b"TRACE"),
        (405, "method_not_allowed"),
        (405, "method_not_allowed"),
    ),
    "unknown method": Case(
        get(b"/api/register/", method=b"FOO"),
        (405, "method_not_allowed"),
        (405, "method_not_allowed"),
    ),
    "lower-case method": Case(get(method=b"get"), INVALID, INVALID),
    "HTTP/3.0": Case(
        get(version=b"HTTP/3.0"),
        (505, "http_version_not_supported"),
        (505, "http_version_not_supported"),
    ),
    "garbage version": Case(get(version=b"HTTP/x.y"), INVALID, INVALID),
    "Content-Length and Transfer-Encoding": Case(
        post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"), INVALID, INVALID
    ),
    "invalid Content-Length": Case(post(b"Content-Length: abc\r\n"), INVALID, INVALID),
    "two Content-Lengths": Case(
        post(b"Content-Length: 2\r\nContent-Length: 3\r\n", b"{}"), INVALID, INVALID
    ),
    "invalid chunked encoding": Case(
        post(b"Transfer-Encoding: chunked\r\n", b"zz\r\nxx\r\n0\r\n\r\n"), INVALID, INVALID
    ),
    "chunk longer than its size": Case(
        post(b"Transfer-Encoding: chunked\r\n", b"2\r\n{}}\r\n0\r\n\r\n"), INVALID, INVALID
    ),
    "unknown Transfer-Encoding": Case(
        post(b"Transfer-Encoding: foo\r\n"), (501, "not_implemented"), (501, "not_implemented")
    ),
    # nginx forwards no Expect: the app gets the empty sign-up, and refuses it (400).
    "unknown Expect": Case(
        post(b"Expect: teapot\r\nContent-Length: 2\r\n", b"{}"),
        INVALID,
        (417, "expectation_failed"),
    ),
}


@pytest.mark.parametrize("target", ["nginx", "gunicorn"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_request_gets_a_json_error(door, case, target):
    port = door.plain if target == "nginx" else door.web
    status, code = getattr(CASES[case], target)
    answer = exchange(port, CASES[case].data, timeout=5, until_answered=True)
    assert answer.status == status, answer.data[:300]
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json["error"] == code and answer.json["message"]
    assert set(answer.json) <= {"error", "message", "fields"}  # fields: the app's 400s
    if target == "nginx":  # nginx's own errors carry the same headers as the app's answers
        assert answer.headers["x-content-type-options"] == "nosniff"


def test_gunicorn_still_hands_the_app_every_body_it_should_see(door, clean):
    """Bodies are read before the app runs, and the app still gets them: a chunked sign-up
    whole, and one too large as it came (the app refuses it; X-Request-ID: the app's own
    answer, not gunicorn's)."""
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(BODY), BODY)
    answer = exchange(
        door.web, post(b"Transfer-Encoding: chunked\r\n", chunked), until_answered=True
    )
    assert answer.status == 202, answer.data
    big = json.dumps({"phone": "09125550143", "referrer": "x" * 5000}).encode()
    declared = exchange(
        door.web, post(b"Content-Length: %d\r\n" % len(big), big), until_answered=True
    )
    assert declared.status == 413 and declared.json["error"] == "too_large"
    chunked_big = b"%x\r\n%s\r\n0\r\n\r\n" % (len(big), big)
    answer = exchange(
        door.web, post(b"Transfer-Encoding: chunked\r\n", chunked_big), until_answered=True
    )
    # The app cuts a chunked body at MAX_BODY_BYTES and finds no JSON in what is left.
    assert answer.status in (400, 413) and "x-request-id" in answer.headers, answer.data


# --- Access logs never show a phone number --------------------------------------------


def test_a_phone_number_typed_into_a_url_never_reaches_an_access_log(door):
    status_path = f"/api/register/{uuid.uuid4()}"
    for port in (door.plain, door.web):
        typed = ("/api/register/0912%20345%206789", "/api/admin/phones/0912-345-6789")
        persian = "/%DB%B0%DB%B9%DB%B1%DB%B2%DB%B3%DB%B4%DB%B5%DB%B6%DB%B7%DB%B8%DB%B9"
        for path in (f"/api/register/{PHONE}", f"/{PHONE}", f"/api/{PHONE}/x", status_path,
                     *typed, persian):  # fmt: skip
            assert request(port, "GET", path, client="127.0.0.51").status < 500
        request(port, "POST", f"/{PHONE}", b"{}", client="127.0.0.51")
        # Refused by gunicorn itself (Content-Length with Transfer-Encoding): logged too.
        exchange(
            port,
            post(b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n").replace(
                b"/api/register/", f"/api/register/{PHONE}".encode()
            ),
            timeout=5,
            until_answered=True,
        )
    # Straight at gunicorn, the id the client sends is logged as it came, masked too.
    request(door.web, "GET", "/health", client="127.0.0.51", headers={"X-Request-ID": PHONE})

    def logged():
        lines = door.access_lines("gunicorn")
        return lines if any(line["request_id"] == "0912***6789" for line in lines) else None

    gunicorn_lines = wait_for(logged)
    for name in ("plain", "gunicorn"):
        assert PHONE not in door.log(name), name
    nginx_paths = {line["path"] for line in door.access_lines("plain")}
    assert {"unmatched", status_path} <= nginx_paths
    assert not {path for path in nginx_paths if "0912" in path}
    gunicorn_paths = {line["path"] for line in gunicorn_lines}
    assert {"/api/register/0912***6789", "/0912***6789", status_path} <= gunicorn_paths
    assert "/api/admin/phones/0912***6789" in gunicorn_paths  # typed with separators
    assert not [path for path in gunicorn_paths if "345" in path or "%" in path]
    refused = {(line["method"], line["path"], line["status"]) for line in gunicorn_lines}
    assert ("POST", "/api/register/0912***6789", 400) in refused  # gunicorn's own answer


def test_nginx_logs_no_phone_even_for_requests_it_refuses_or_cannot_pass_on(door):
    """A body too large, a slow one, an upstream gone: nginx's own messages about a request
    quote its request line; none may reach the log with the number in it."""
    big = b"x" * 8192
    head = f"POST /api/register/{PHONE} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    refused = exchange(
        door.plain,
        head.encode() + b"Content-Length: %d\r\n\r\n" % len(big) + big,
        until_answered=True,
    )
    assert refused.status == 413
    assert request(door.plain, "GET", f"/api/register/{PHONE}/x", client="127.0.0.52").status < 500
    wait_for(lambda: len(door.access_lines("plain")) > 0)
    assert PHONE not in door.log("plain")


# --- TLS --------------------------------------------------------------------------------


def over_tls(door: Door, method: str, path: str, body=None, client="127.0.0.41", **kwargs):
    return request(
        door.https,
        method,
        path,
        body,
        client,
        tls=trusting(door.cert),
        hostname="localhost",
        **kwargs,
    )


def test_a_sign_up_over_tls_is_accepted_and_every_answer_asks_for_https(door, clean):
    answer = over_tls(door, "POST", "/api/register/", {"phone": "0912 555 0141"})
    assert answer.status == 202, answer.body
    for response in (answer, over_tls(door, "GET", "/health"), over_tls(door, "GET", "/nowhere")):
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_the_certificate_is_verified_for_real(door, tmp_path):
    other_cert, _ = self_signed_pair(tmp_path)
    with pytest.raises(ssl.SSLCertVerificationError):
        request(door.https, "GET", "/health", tls=trusting(other_cert), hostname="localhost")
    with pytest.raises(ssl.SSLCertVerificationError):
        request(door.https, "GET", "/health", tls=trusting(door.cert), hostname="example.com")


def test_only_tls_1_2_and_newer_are_spoken(door):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # the point is an old version
        old = trusting(door.cert)
        old.minimum_version, old.maximum_version = ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1
        old.set_ciphers("DEFAULT:@SECLEVEL=0")  # so the client itself does offer TLS 1.1
    with pytest.raises(ssl.SSLError):
        request(door.https, "GET", "/health", tls=old, hostname="localhost")
    tls12 = trusting(door.cert)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    sock = socket.create_connection(("127.0.0.1", door.https), timeout=5)
    with tls12.wrap_socket(sock, server_hostname="localhost") as wrapped:
        assert wrapped.version() == "TLSv1.2"


def test_plain_http_only_redirects_when_tls_is_on(door, clean):
    answer = request(door.http, "GET", "/health?x=1", client="127.0.0.42", hostname="localhost")
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://localhost:{door.https}/health?x=1"
    assert "Strict-Transport-Security" not in answer.headers
    signup = request(door.http, "POST", "/api/register/", {"phone": "0912 555 0144"}, "127.0.0.42")
    assert signup.status == 301
    # gunicorn never saw it: nginx answered before reading the body.
    ids = {line["request_id"] for line in door.access_lines("gunicorn")}
    assert signup.headers["X-Request-ID"] not in ids
    # A malformed request still gets its error, not a redirect.
    garbage = exchange(door.http, b"GARBAGE\r\n\r\n", client="127.0.0.42", until_answered=True)
    assert garbage.status == 400 and garbage.json["error"] == "invalid"


def test_plain_http_on_the_tls_port_is_refused_as_json(door):
    answer = exchange(door.https, get(), client="127.0.0.43", until_answered=True)
    assert answer.status == 400
    assert answer.json == {
        "error": "invalid",
        "message": "Plain HTTP sent to the HTTPS port; use https://.",
    }


def test_a_hostile_request_over_tls_gets_its_json_error(door):
    answer = exchange(
        door.https, CASES["HTTP/3.0"].data, tls=trusting(door.cert), until_answered=True
    )
    assert answer.status == 505 and answer.json["error"] == "http_version_not_supported"
    assert answer.headers["strict-transport-security"] == "max-age=31536000"
