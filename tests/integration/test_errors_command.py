"""`guichet errors` on the real broker: list by group, show, replay with history, purge."""

import json
import subprocess
import sys
from datetime import date

import pytest

from guichet.agency import Agency, AgencyDefinition
from guichet.bus import Bus
from guichet.clock import SystemClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet.topology import Topology
from schemas.titre import Recepisse
from services.ofii.state import OfiiDossier
from services.parties import PARTIES

pytestmark = pytest.mark.broker


def broken_handler(msg, ctx, d):
    raise RuntimeError("préfecture unreachable")


def errors(url, namespace, *args):
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "errors", *args, "--broker", url, "--namespace", namespace, "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_operators_list_show_replay_and_purge_the_error_queue(amqp_url, namespace, tmp_path):
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace, retry_delays=()))
    bus.declare()
    definition = AgencyDefinition(name="ofii", state_model=OfiiDossier, handlers={Recepisse: broken_handler})
    runner = Runner(Agency(definition, Register(str(tmp_path / "ofii.sqlite3"), "ofii"), SystemClock()), bus)
    try:
        env = wrap(
            Recepisse(valid_until=date(2026, 6, 1)),
            dossier_id="D-9",
            sender=Sender(agency="prefecture"),
            sent_at=SystemClock().now(),
        )
        bus.publish_envelope(env)
        for garbage in (b"\x01 not json", b"also not json"):
            bus.publish(garbage, "ofii.x", {}, "", content_type="application/json")
        while runner.poll_once():
            pass

        listed = errors(amqp_url, namespace, "list")
        assert listed["count"] == 3
        groups = {m["group"] for m in listed["messages"]}
        handler_group = f"handler_error/RuntimeError/{namespace}.ofii"
        assert groups == {handler_group, f"undecodable/undecodable/{namespace}.ofii"}
        assert errors(amqp_url, namespace, "list")["count"] == 3, "listing leaves every message in place"

        shown = errors(amqp_url, namespace, "show", str(env.message_id))["messages"][0]
        assert shown["dossier_id"] == "D-9" and "préfecture unreachable" in shown["traceback"]

        assert errors(amqp_url, namespace, "replay", "--group", handler_group)["count"] == 1
        assert errors(amqp_url, namespace, "list")["count"] == 2
        assert runner.poll_once(), "the replayed message is back in the queue it failed in"
        again = errors(amqp_url, namespace, "show", str(env.message_id))["messages"][0]
        assert again["replays"] == 1 and len(again["history"]) == 1
        assert again["history"][0]["exception"] == "RuntimeError"

        purged = errors(amqp_url, namespace, "purge", "--group", f"undecodable/undecodable/{namespace}.ofii")
        assert purged["count"] == 2
        assert [m["id"] for m in errors(amqp_url, namespace, "list")["messages"]] == [str(env.message_id)]
    finally:
        runner.agency.register.close()
        bus.delete_topology()
        bus.close()


def test_replay_and_purge_need_a_selection(amqp_url, namespace):
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "errors", "purge", "--broker", amqp_url, "--namespace", namespace],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "--all" in result.stderr
