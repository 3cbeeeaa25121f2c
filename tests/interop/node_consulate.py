"""The Node.js consulate (connectors/consulat-node) as a process on the bus, for the interoperability
tests: started with the bus's options and its keys, waited for until it consumes, stopped with
SIGTERM (it must stop by itself); what the tests send it as the DT-OFII would, and what they read of
the error queue, the refusal notices and the receipts exchanged."""

from __future__ import annotations

import json
import os
import subprocess
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Producer, Queue

from guichet.envelope import Envelope, Sender, new_message_id, wrap
from guichet.register_reader import RegisterReader
from guichet.trust import Trust
from schemas.dossier import Dossier
from schemas.visa import TransmissionConsulat
from tests.conftest import dossier, wait_until
from tests.services import guichet


class NodeConsulate:
    """The Node.js consulate as a process of the bus; its log accumulates across restarts."""

    def __init__(self, command: list[str], bus: dict, workdir: Path, signing: list[str]):
        self.log = workdir / "consulat-node.log"
        self.state_file = workdir / "node-data" / "consulat-node.json"
        schemas = workdir / "schemas-json"
        exported = subprocess.run(guichet("schemas", "export", "--out", str(schemas)), capture_output=True, timeout=60)
        assert exported.returncode == 0, exported.stderr
        self.argv = [
            *command,
            *bus["bus"],
            *bus["clock"],
            *("--schemas", str(schemas), "--data-dir", str(workdir / "node-data"), "--simulated-actors"),
            *signing,
        ]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        started = self.log.read_text().count('"event":"consuming"') if self.log.exists() else 0
        with open(self.log, "a") as out:
            self.proc = subprocess.Popen(
                self.argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                env={k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")},
            )
        proc = self.proc
        wait_until(
            lambda: self.log.read_text().count('"event":"consuming"') > started or proc.poll() is not None,
            30,
            "the Node.js consulate consuming its queue",
        )
        self.check_running()

    def check_running(self) -> None:
        assert self.proc is not None and self.proc.poll() is None, (
            f"the Node.js consulate stopped: {self.log.read_text()[-3000:]}"
        )

    def kill(self) -> None:
        """A crash: no chance to finish anything; what it had not acknowledged comes back."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(20)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            pytest.fail("the Node.js consulate did not stop on SIGTERM")


@contextmanager
def node_process(command: list[str], bus: dict, workdir: Path, signing: list[str]):
    node = NodeConsulate(command, bus, workdir, signing)
    node.start()
    try:
        yield node
    finally:
        node.stop()


def receipts_exchanged(data: Path, state_file: Path, dossier_ids: set[str]) -> str | None:
    """Signed, what is missing of the receipts between the DT-OFII and the Node.js consulate; None
    when each side has kept the other's receipt of every message it sent about the dossiers, each
    of the bytes published (docs/proof.md, "Signed receipts")."""
    with RegisterReader("ofii", data, None) as ofii:
        sent = ofii.rows(
            "SELECT message_id, dossier_id FROM journal WHERE direction = 'out' AND recipient = 'consulat' "
            "AND type NOT LIKE '%.accuse_reception'"
        )
        kept = {r["message_id"] for r in ofii.rows("SELECT message_id FROM receipts WHERE receiver = 'consulat'")}
    missing = [r["message_id"] for r in sent if r["dossier_id"] in dossier_ids and r["message_id"] not in kept]
    if not sent or missing:
        return f"the DT-OFII has no receipt of the consulate for {missing or 'anything: it sent nothing'}"
    state = json.loads(state_file.read_text())
    ours = {m: s for m, s in state["sent"].items() if s["recipient"] == "ofii"}
    for message_id, receipt in state["receipts"].items():
        payload = json.loads(receipt["body"])["payload"]
        assert receipt["receiver"] == "ofii" and payload["message_hash"] == ours[message_id]["message_hash"]
    unacknowledged = [m for m, s in ours.items() if s["dossier_id"] in dossier_ids and m not in state["receipts"]]
    if not ours or unacknowledged:
        return f"the consulate has no receipt of the DT-OFII for {unacknowledged or 'anything: it sent nothing'}"
    return None


def forged_receipt(trust, dossier_id: str) -> dict:
    """A receipt signed with the DT-OFII's own key, so its signature holds, for a message the
    consulate never sent: the consulate refuses it (receipt_mismatch) and keeps nothing."""
    now = datetime.now(UTC).isoformat()
    envelope = {
        "message_id": str(new_message_id()),
        "type": "ofii.accuse_reception",
        "version": 1,
        "dossier_id": dossier_id,
        "causation_id": None,
        "sender": {"agency": "ofii", "office": "DT-OFII"},
        "recipient": "consulat",
        "sent_at": now,
        "deadline": None,
        "facts": None,
        "payload": {
            "message_id": str(new_message_id()),
            "type": "consulat.decision_visa",
            "message_hash": "0" * 64,
            "received_at": now,
            "record_seq": 1,
            "record_hash": "a" * 64,
        },
    }
    return json.loads(trust.sign(Envelope.model_validate(envelope)).body())


def publish_raw(amqp_url: str, namespace: str, body: str, routing_key: str, headers: dict) -> None:
    with Connection(amqp_url) as conn:
        producer = Producer(
            conn.channel(), exchange=Exchange(f"{namespace}.flux", type="topic", durable=True), auto_declare=False
        )
        producer.publish(
            body,
            routing_key=routing_key,
            headers=headers,
            content_type="application/json",
            content_encoding="utf-8",
            delivery_mode=2,
        )


def refusals(amqp_url: str, namespace: str) -> dict[str, str]:
    """What the consulate filed in the error queue: the reason, by dossier (read and requeued)."""
    found: dict[str, str] = {}
    with Connection(amqp_url) as conn:
        queue = Queue(f"{namespace}.erreurs", durable=True, no_declare=True)(conn.channel())
        taken = []
        while (message := queue.get(no_ack=False)) is not None:
            taken.append(message)
            h = message.headers or {}
            if h.get("x-guichet-error-queue") == f"{namespace}.consulat":
                found[str(h.get("dossier_id"))] = str(h.get("x-guichet-error-reason"))
        for message in taken:
            message.requeue()
    return found


def notices(amqp_url: str, namespace: str, party: str) -> dict[str, str]:
    """The consulate's refusal notices in a party's refusal queue: the reason, by dossier (requeued)."""
    found: dict[str, str] = {}
    with Connection(amqp_url) as conn:
        queue = Queue(f"{namespace}.{party}.refusals", durable=True, no_declare=True)(conn.channel())
        taken = []
        while (message := queue.get(no_ack=False)) is not None:
            taken.append(message)
            notice = json.loads(message.body)
            if notice["refused_by"] == "consulat" and notice["recipient"] == party:
                found[str(notice["dossier_id"])] = notice["reason"]
        for message in taken:
            message.requeue()
    return found


def transmission(dossier_id: str, trust: Trust | None):
    """A transmission from the DT-OFII as the Python one builds it, signed with its key when given."""
    d = Dossier.model_validate({**{k: v for k, v in dossier().items() if k not in ("id", "facts")}})
    envelope = wrap(
        TransmissionConsulat(dossier=d, family=d.family, stamp="guichet unique"),
        dossier_id=dossier_id,
        sender=Sender(agency="ofii", office="DT-OFII"),
        sent_at=datetime.now(UTC),
    )
    return trust.sign(envelope) if trust is not None else envelope


def send_envelope(amqp_url: str, namespace: str, data: dict) -> None:
    headers = {"type": data["type"], "version": data["version"], "dossier_id": data["dossier_id"], "sender": "ofii"}
    publish_raw(amqp_url, namespace, json.dumps(data), f"consulat.{data['type']}", headers)
