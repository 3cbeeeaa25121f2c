"""A failover list: every URL, in a rotating order; the backoff starts over after a working connection."""

from pathlib import Path

from kombu import Connection

from guichet import serve
from guichet.bus import Brokers
from guichet.metrics import Metrics
from guichet.status_server import ServiceStatus

A, B, C = (f"amqp://guest:guest@127.0.0.1:{port}//" for port in (5701, 5702, 5703))


def test_each_connection_starts_after_the_node_the_last_one_used():
    brokers = Brokers(f"{A}; {B};{C}")
    assert brokers.order() == [A, B, C]
    assert brokers.used(Connection(B)) == B
    assert brokers.order() == [C, A, B], "the node just used (and perhaps just lost) is tried last"
    brokers.used(Connection(C))
    assert brokers.order() == [A, B, C]


class Flaky(serve.Service):
    """A service whose connections fail as scripted: 'up' consumes then drops, 'down' never connects."""

    def __init__(self, script):
        self.script, self.waits, self.stopping = list(script), [], False
        self.config = type("C", (), {"agency": "smoe"})()
        self.heartbeat_file = Path("/nonexistent/smoe.alive")
        self.agency = type("A", (), {"register": type("R", (), {"close": lambda self: None})()})()
        self.status = ServiceStatus(Metrics("smoe"))  # no port: nothing listens

    def _consume(self):
        if not self.script:
            self.stopping = True
            return
        if self.script.pop(0) == "up":
            self._consuming = True
        raise ConnectionResetError("connection dropped")

    def _wait(self, seconds):
        self.waits.append(seconds)


def test_the_backoff_starts_over_once_a_connection_worked(monkeypatch):
    monkeypatch.setattr(serve.signal, "signal", lambda *a: None)
    service = Flaky(["down"] * 7 + ["up"] + ["down", "down"])
    service._lost_at = None
    service.run()
    assert service.waits[:7] == [0.5, 1, 2, 4, 8, 16, 30]
    assert service.waits[7:] == [0.5, 1, 2], "after a working connection, a new outage starts from 0.5 s"


def test_a_nack_is_recognised_under_kombus_wrapping():
    from amqp.exceptions import MessageNacked
    from kombu.exceptions import OperationalError

    from guichet.bus import _nacked

    try:
        try:
            raise MessageNacked()
        except MessageNacked as nack:
            raise OperationalError("") from nack
    except OperationalError as wrapped:
        assert _nacked(wrapped)
    assert not _nacked(OperationalError("connection refused"))
