"""An exchange left on the broker with another type than this version declares is refused with a
clear error, instead of routing by the wrong rules: a direct `vers.erreurs` exchange would silently drop
every failed message, now filed under the routing key it was delivered with."""

import subprocess

import pytest
from kombu import Connection, Exchange

from services.parties import PARTIES
from tests.conftest import delete_namespace
from tests.services import guichet

pytestmark = pytest.mark.broker


def test_a_service_stops_with_the_exchange_to_repair_instead_of_dropping_failed_messages(amqp_url, namespace, tmp_path):
    with Connection(amqp_url) as conn, conn.channel() as channel:
        Exchange(f"{namespace}.vers.erreurs", type="direct", durable=True)(channel).declare()
    try:
        result = subprocess.run(
            guichet("run", "smoe", "--broker", amqp_url, "--namespace", namespace, "--data-dir", str(tmp_path)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 5, result.stderr
        assert (
            f"exchange '{namespace}.vers.erreurs' exists on the broker but is not a durable topic exchange"
            in result.stderr
        )
        assert "Traceback" not in result.stderr
    finally:
        with Connection(amqp_url) as conn, conn.channel() as channel:
            Exchange(f"{namespace}.vers.erreurs")(channel).delete()
        delete_namespace(amqp_url, namespace)


def test_an_exchange_of_the_right_type_is_declared_again_without_change(amqp_url, namespace):
    from guichet.bus import Bus
    from guichet.topology import Topology

    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    try:
        bus.declare()
        bus.declare()  # the second time every exchange exists and is checked: same type, no error
    finally:
        bus.delete_topology()
        bus.close()
