"""HeadWithBody: gunicorn's two sends per answer (head, then body) made one; EagerAcceptServer:
new connections taken in bursts, by a worker that has sibling processes."""

import socket
from types import SimpleNamespace

import gevent
import pytest
from gunicorn.workers import ggevent

from landing.server.sockets import EagerAcceptServer, HeadWithBody, NamedListener
from landing.server.worker import JsonErrorWorker

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


def test_one_turn_of_the_loop_accepts_a_burst_of_waiting_connections():
    handled = []
    server = EagerAcceptServer(("127.0.0.1", 0), handle=lambda sock, address: handled.append(1))
    server.init_socket()  # listening, but not started: no turn of the loop accepts by itself
    clients = [socket.create_connection(server.address) for _ in range(20)]
    try:
        server.max_accept = 1  # as gunicorn's worker sets it
        server._do_read()  # what one readiness event of the listening socket runs
        gevent.sleep(0)  # the handlers it spawned run
        assert len(handled) == EagerAcceptServer.ACCEPT_BURST
    finally:
        for client in clients:
            client.close()
        server.close()


@pytest.mark.parametrize(("processes", "installed"), [(2, True), (1, False)])
def test_the_worker_takes_bursts_only_beside_sibling_processes(monkeypatch, processes, installed):
    monkeypatch.setattr(ggevent, "StreamServer", ggevent.StreamServer)  # restored afterwards
    monkeypatch.setattr(ggevent.GeventWorker, "run", lambda self: None)  # no servers started
    worker = JsonErrorWorker.__new__(JsonErrorWorker)  # gunicorn's arbiter is not needed
    worker.cfg, worker.sockets = SimpleNamespace(workers=processes), []
    worker.run()
    assert (ggevent.StreamServer is EagerAcceptServer) is installed


def test_a_connection_accepted_before_a_recycle_is_still_served(monkeypatch):
    # A recycle closes the listening socket under connections it already accepted; gunicorn
    # asks that socket its name before it reads their first request.
    monkeypatch.setattr(ggevent, "StreamServer", ggevent.StreamServer)  # run() replaces it
    monkeypatch.setattr(ggevent.GeventWorker, "run", lambda self: None)
    seen = []
    monkeypatch.setattr(ggevent.GeventWorker, "handle", lambda self, listener, client, addr: (
        seen.append(listener.getsockname())))  # fmt: skip
    listener = socket.create_server(("127.0.0.1", 0))
    name = listener.getsockname()
    worker = JsonErrorWorker.__new__(JsonErrorWorker)
    worker.cfg, worker.sockets = SimpleNamespace(workers=2), [listener]
    worker.run()
    listener.close()  # the recycle
    worker.handle(listener, None, ("127.0.0.1", 1))
    assert seen == [name]
    assert NamedListener(listener, name).fileno() == -1  # anything else is the socket's own
