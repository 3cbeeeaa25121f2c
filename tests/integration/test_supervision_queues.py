"""The supervision service on the real RabbitMQ: what reaches it by each exchange goes to its table,
the error queue is taken into the store (and leaves the broker), and a replay from the store puts the
message back in the queue it failed in, once, through the replay exchange (issue 22)."""

import json
import threading
from datetime import UTC, datetime

import pytest

from guichet.bus import Bus
from guichet.topology import Topology
from guichet_operations.console import failures
from guichet_operations.console.failures import Actor
from guichet_operations.error_queue import REPLAYS
from guichet_operations.supervision.replay import BrokerActions
from guichet_operations.supervision.service import Supervisor, wait_consuming
from guichet_operations.supervision.store import Store
from services.parties import PARTIES
from tests.conftest import delete_namespace, wait_until

pytestmark = pytest.mark.broker


def test_copies_notices_and_failures_reach_their_tables_and_a_replay_goes_back_once(amqp_url, namespace, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'supervision.sqlite3'}")
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    bus.declare()
    supervisor = Supervisor(store, amqp_url, namespace=namespace)
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    try:
        assert wait_consuming(supervisor)
        now = datetime.now(UTC).isoformat()
        copy = {
            "format": 1, "agency": "consulat", "message_id": "consulat:1", "from_seq": 1, "to_seq": 1,
            "head_hash": "a" * 64, "bus_now": now, "time_scale": 1.0, "shipped_at": now, "tasks": [], "dossiers": [],
            "records": [{"seq": 1, "direction": "in", "message_id": "m-1", "dossier_id": "D-1",
                         "type": "ofii.transmission_consulat", "sender": "ofii", "recipient": "consulat",
                         "sent_at": now, "deadline": None, "recorded_at": now, "hash": "a" * 64}],
        }  # fmt: skip
        bus.publish(
            json.dumps(copy),
            "consulat",
            {"type": "audit_copy"},
            "consulat:1",
            exchange=bus.topology.supervision_exchange,
        )
        notice = {
            "notice": "refusal_notice", "version": 1, "notice_id": "6f1c3c8e-2a5b-5c1e-9d7a-0e2b7f1a9c11",
            "message_id": "m-2", "reason": "unsigned", "error": "non signé", "recipient": "smoe",
            "identified_by": "account", "refused_by": "ofii", "refused_at": now,
        }  # fmt: skip
        bus.publish(
            json.dumps(notice), "smoe", {"type": "refusal_notice"}, "n-1", exchange=bus.topology.refusals_exchange
        )
        failed_body = b'{"message_id": "m-3", "payload": {"granted": "yes"'
        bus.to_error_queue(
            failed_body,
            {"type": "consulat.decision_visa", "dossier_id": "D-1"},
            "application/json",
            {
                "reason": "invalid_payload",
                "message": "payload.granted",
                "message_id": "m-3",
                "queue": f"{namespace}.ofii",
            },
            "ofii.consulat.decision_visa",
        )

        def taken():
            counts = {
                t: store.rows(f"SELECT COUNT(*) AS n FROM {t}")[0]["n"] for t in ("records", "refusals", "failures")
            }
            return counts == {"records": 1, "refusals": 1, "failures": 1}

        wait_until(taken, 30, "the copy, the notice and the failure in the store")
        assert store.rows("SELECT agency, type FROM records") == [
            {"agency": "consulat", "type": "ofii.transmission_consulat"}
        ]
        wait_until(lambda: bus.depth(f"{namespace}.erreurs") == 0, 10, "the error queue taken into the store")

        failure_id = store.rows("SELECT id FROM failures")[0]["id"]
        actions = BrokerActions(store, lambda: bus)
        dupont = Actor("oidc:agent-dupont", "Agent Dupont", "operateur")
        now = datetime.now(UTC)
        assert failures.act(store, actions, "replay", [failure_id], dupont, now)["done"] == [failure_id]
        back = wait_until(lambda: bus.get(f"{namespace}.ofii"), 10, "the replayed message in the OFII's queue")
        assert back.body == failed_body and back.headers[REPLAYS] == 1
        back.ack()
        assert store.rows("SELECT status FROM failures") == [{"status": "rejoue"}]
        events = store.rows("SELECT event, person FROM failure_events ORDER BY id")
        assert events[-1] == {"event": "replay", "person": "Agent Dupont (oidc:agent-dupont)"}
        journaled = store.rows("SELECT person, action FROM actions ORDER BY id")[-1]
        assert journaled == {"person": "oidc:agent-dupont", "action": "failures.replay"}
        martin = Actor("oidc:agent-martin", "Agent Martin", "operateur")
        again = failures.act(store, actions, "replay", [failure_id], martin, now)
        assert again["done"] == [] and again["skipped"] == [failure_id]
        assert bus.depth(f"{namespace}.ofii") == 0, "replayed once"
    finally:
        supervisor.stop()
        thread.join(timeout=10)
        bus.close()
        delete_namespace(amqp_url, namespace)
        store.close()
