"""HeadWithBody: gunicorn's two sends per answer (head, then body) made one; EagerAcceptServer:
new connections taken in bursts."""

import pytest

from landing.server.sockets import EagerAcceptServer, HeadWithBody

pytestmark = pytest.mark.fast  # the fast tier: `make unit`


class Recorded:
    """Stands in for a client socket: what was sent, send by send, and what else was asked."""

    def __init__(self):
        self.sent, self.asked = [], []

    def sendall(self, data):
        self.sent.append(bytes(data))

    def fileno(self):
        self.asked.append("fileno")
        return 7


HEAD = b"HTTP/1.1 202 Accepted\r\nContent-Length: 2\r\n\r\n"


def test_the_head_goes_out_with_the_first_body_bytes_in_one_send():
    sock = Recorded()
    client = HeadWithBody(sock)
    client.sendall(HEAD)
    assert sock.sent == []  # held
    client.sendall(b"{}")
    client.sendall(memoryview(b"more"))  # later writes go as they come
    client.flush()
    assert sock.sent == [HEAD + b"{}", b"more"]


def test_a_head_without_a_body_is_sent_when_the_request_ends():
    sock = Recorded()
    client = HeadWithBody(sock)
    client.sendall(HEAD)
    client.flush()
    client.flush()
    assert sock.sent == [HEAD]


def test_anything_else_asked_of_the_socket_sends_the_held_head_first():
    sock = Recorded()
    client = HeadWithBody(sock)
    client.sendall(HEAD)
    assert client.fileno() == 7  # as sendfile asks, before it writes the file
    assert sock.sent == [HEAD] and sock.asked == ["fileno"]


def test_nothing_sent_nothing_flushed():
    sock = Recorded()
    HeadWithBody(sock).flush()
    assert sock.sent == []


def test_gunicorns_one_connection_per_turn_does_not_take():
    server = EagerAcceptServer(("127.0.0.1", 0), handle=lambda sock, address: None)
    try:
        server.max_accept = 1  # what gunicorn's worker sets when it has sibling processes
        assert server.max_accept == EagerAcceptServer.ACCEPT_BURST > 1
    finally:
        server.close()
