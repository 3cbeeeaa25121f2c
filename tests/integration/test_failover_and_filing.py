"""What a cluster needs, checked on the one broker: every URL of a failover list is tried, a queue
that cannot be declared does not stop a service from consuming its own, and a delivery filed twice
in the error queue (a crash between the filing's confirm and the original's ack) is one entry."""

import json
import subprocess
import sys

import pytest
from kombu import Connection

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import SystemClock
from guichet.register import Register
from guichet.runner import FILING_ID, Runner
from guichet.topology import Topology
from services.bootstrap import compose
from services.parties import PARTIES
from tests.conftest import DIRECTORY, delete_namespace, dossier, wait_until
from tests.services import guichet

SMOE = compose(DIRECTORY).agencies["smoe"]

pytestmark = pytest.mark.broker

DEAD = ("amqp://guest:guest@127.0.0.1:5991//", "amqp://guest:guest@127.0.0.1:5992//")


def test_every_url_of_a_failover_list_is_tried(amqp_url, namespace, tmp_path):
    """kombu alone gives up after two URLs: `dead;dead;live` exited 3."""
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"dossiers": [dossier(id="F-1")]}))
    try:
        filed = subprocess.run(
            guichet("submit", str(scenario), "--broker", ";".join([*DEAD, amqp_url]), "--namespace", namespace),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert filed.returncode == 0, filed.stderr
        assert "filed 1 dossier(s)" in filed.stdout
        none = subprocess.run(
            guichet("submit", str(scenario), "--broker", ";".join(DEAD), "--namespace", namespace),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert none.returncode == 3 and "cannot reach the broker" in none.stderr
    finally:
        delete_namespace(amqp_url, namespace)


def test_a_service_consumes_its_own_queue_while_another_queue_cannot_be_declared(amqp_url, namespace, tmp_path):
    """An exclusive queue of the same name, held by another connection, answers 405 as a classic
    queue whose node is down answers 404: the SMOE must consume all the same."""
    blocked = f"{namespace}.usagers"
    with Connection(amqp_url) as holder:
        holder.default_channel.queue_declare(blocked, exclusive=True)
        proc = subprocess.Popen(
            guichet("run", "smoe", "--broker", amqp_url, "--namespace", namespace, "--data-dir", str(tmp_path)),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_until(
                lambda: (
                    subprocess.run(
                        guichet("health", "smoe", "--data-dir", str(tmp_path)), capture_output=True
                    ).returncode
                    == 0
                ),
                60,
                "the SMOE consuming",
            )
            bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
            try:
                assert blocked in bus.declare()
                bus.publish(b"\xff not json", "smoe.ofii.transmission_smoe", {}, "blocked-probe")
            finally:
                bus.close()
            assert wait_until(
                lambda: "blocked-probe" in error_ids(amqp_url, namespace), 30, "the SMOE filing what it consumed"
            )
        finally:
            proc.terminate()
            out = proc.communicate(timeout=30)[0].decode()
            delete_namespace(amqp_url, namespace)
    assert "queue not available now" in out and blocked in out


def error_ids(url, namespace, *extra):
    listed = subprocess.run(
        [
            sys.executable,
            "-m",
            "guichet_cli",
            "errors",
            "list",
            "--broker",
            url,
            "--namespace",
            namespace,
            "--json",
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    return [m["id"] for m in json.loads(listed.stdout)["messages"]]


def test_a_delivery_filed_twice_is_one_entry_and_keeps_its_amqp_id(amqp_url, namespace, tmp_path):
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace, retry_delays=()))
    bus.declare()
    runner = Runner(Agency(SMOE, Register(str(tmp_path / "smoe.sqlite3"), "smoe"), SystemClock()), bus)
    try:
        bus.publish(b"\xff not json", "smoe.ofii.transmission_smoe", {}, "amqp-id-1")
        bus.publish(b"\xfe other garbage", "smoe.ofii.transmission_smoe", {}, "amqp-id-2")
        queue = bus.topology.queue_name("smoe")
        first = bus.get(queue)
        # Filed, confirmed, then the service dies before its ack: the broker delivers it again.
        runner.handle(
            first.body,
            first.headers,
            first.content_type,
            first.delivery_info["routing_key"],
            message_id=first.properties.get("message_id"),
        )
        first.requeue()
        assert runner.poll_once() and runner.poll_once()
        assert bus.get(queue) is None

        listed = subprocess.run(
            [
                sys.executable,
                "-m",
                "guichet_cli",
                "errors",
                "list",
                "--broker",
                amqp_url,
                "--namespace",
                namespace,
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        messages = {m["id"]: m for m in json.loads(listed.stdout)["messages"]}
        assert set(messages) == {"amqp-id-1", "amqp-id-2"}, "the AMQP message id of an undecodable body is kept"
        assert messages["amqp-id-1"]["copies"] == 2 and messages["amqp-id-2"]["copies"] == 1

        empty = subprocess.run(
            [
                sys.executable,
                "-m",
                "guichet_cli",
                "errors",
                "purge",
                "",
                "--broker",
                amqp_url,
                "--namespace",
                namespace,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert empty.returncode == 2 and "empty id" in empty.stderr
        assert sorted(error_ids(amqp_url, namespace)) == ["amqp-id-1", "amqp-id-2"]

        replayed = subprocess.run(
            [
                sys.executable,
                "-m",
                "guichet_cli",
                "errors",
                "replay",
                "amqp-id-1",
                "--broker",
                amqp_url,
                "--namespace",
                namespace,
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert replayed.returncode == 0 and "replayed 1 message(s)" in replayed.stdout
        assert error_ids(amqp_url, namespace) == ["amqp-id-2"], "both copies left the error queue with the replay"
        back = bus.get(queue)
        assert back.properties.get("message_id") == "amqp-id-1" and FILING_ID not in (back.headers or {})
        back.ack()
        assert bus.get(queue) is None, "replayed once, not once per copy"
    finally:
        runner.agency.register.close()
        delete_namespace(amqp_url, namespace)
        bus.close()


def test_an_idle_publishing_connection_is_kept_alive_by_the_consuming_loop(amqp_url, namespace):
    """Only the consuming connection was heartbeating: RabbitMQ closed the idle publishing one after
    two missed heartbeats, and the next publish of a service that waits for days found it gone."""
    import time

    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace), heartbeat=1)
    try:
        bus.declare()
        bus.publish("{}", "ofii.probe", {}, "probe-1")
        before = bus.publishing.connection
        deadline = time.monotonic() + 5  # five heartbeat intervals: the broker gives up after two
        while time.monotonic() < deadline:
            bus.drain(0.2)
        assert bus.publishing.connected and bus.publishing.connection is before
        bus.publish("{}", "ofii.probe", {}, "probe-2")
        assert bus.publishing.connection is before, "published on the same connection, no reconnect"
    finally:
        bus.delete_topology()
        bus.close()
