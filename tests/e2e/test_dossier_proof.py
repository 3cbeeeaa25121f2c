"""End to end (issue 23, "records that prove"): four signed agency processes on RabbitMQ carry a
dossier to its end (circulaire 2012, II.A to II.D). Each transmission between administrations is
acknowledged by a signed receipt the sender keeps; each agency copies its journal anchors to the
ministry's inbox. `guichet dossier proof` exports the dossier's messages, receipts and chain
proofs as one file that `guichet proof verify` checks offline, and that fails when one byte
changes; the ministry's copies of the anchors still catch a rewritten journal whose register
anchors were deleted."""

import json
import re
import subprocess

import pytest

from guichet.bus import Bus
from guichet.register import Register
from guichet.topology import Topology
from schemas.base import AGENCIES
from services.parties import PARTIES
from tests.conftest import dossier, wait_until
from tests.integration.test_journal_anchors import rewrite_register
from tests.integration.test_signed_messages import make_keys
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker

DOSSIER = "PREUVE-1"


def receipts_complete(data):
    """Every message an agency sent to another administration about the dossier has its receipt."""
    for agency in AGENCIES:
        register = Register.for_agency(agency, data)
        try:
            sent = register.read(
                "SELECT message_id FROM journal WHERE direction = 'out' AND dossier_id = ? AND recipient IN "
                f"({', '.join('?' * len(AGENCIES))}) AND recipient <> ? AND type NOT LIKE '%.accuse_reception'",
                DOSSIER,
                *AGENCIES,
                agency,
            )
            kept = {r["message_id"] for r in register.read("SELECT message_id FROM receipts")}
        finally:
            register.close()
        if any(r["message_id"] not in kept for r in sent):
            return False
    return True


def ministry_anchor_copies(amqp_url, namespace):
    """What the ministry's inbox holds of the agencies' anchors, taken and acked as the ministry would."""
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    copies = []
    try:
        while (message := bus.get(bus.topology.queue_name("ministere"))) is not None:
            if str((message.headers or {}).get("type", "")).endswith(".ancre_journal"):
                copies.append(json.loads(message.body))
            message.ack()
    finally:
        bus.close()
    return copies


def flipped(text):
    """`text` with its last character changed."""
    return text[:-1] + ("1" if text[-1] == "0" else "0")


def run(*args, **kwargs):
    return subprocess.run(guichet(*args), capture_output=True, text=True, timeout=120, **kwargs)


def test_a_dossier_proof_verifies_offline_and_fails_on_one_changed_byte(amqp_url, namespace, tmp_path, monkeypatch):
    directory, keys = make_keys(tmp_path, (*AGENCIES, "employeur", "travailleur"))
    monkeypatch.setenv("GUICHET_KEY_DIRECTORY", str(directory))
    monkeypatch.setenv("GUICHET_KEYS_DIR", str(keys))
    with running_services(amqp_url, namespace, tmp_path, 400_000) as bus:
        scenario = tmp_path / "s.json"
        scenario.write_text(json.dumps({"dossiers": [dossier(id=DOSSIER, facts={"prefecture_production_days": 1})]}))
        run("submit", str(scenario), *bus["bus"], *bus["clock"], check=True)

        def handed_over():
            shown = run("dossier", "show", DOSSIER, "--data-dir", str(bus["data"]), "--json")
            return shown.returncode == 0 and json.loads(shown.stdout)["outcome"] == "titre_remis"

        wait_until(handed_over, 90, "the dossier handed over")
        wait_until(lambda: receipts_complete(bus["data"]), 60, "every transmission between agencies acknowledged")
        copies: list[dict] = []

        def every_agency_copied():
            copies.extend(ministry_anchor_copies(amqp_url, namespace))
            return {c["agency"] for c in copies} == set(AGENCIES) and any(
                c["agency"] == "smoe" and c["seq"] >= 2 for c in copies
            )

        wait_until(every_agency_copied, 60, "every agency's anchors copied to the ministry's inbox")
    # Stopped: each service signed its last records on its way out, and copied the anchors.
    data, proof = bus["data"], tmp_path / "proof.json"
    made = run("dossier", "proof", DOSSIER, "--data-dir", str(data), "--output", str(proof))
    assert made.returncode == 0, made.stderr
    assert proof.stat().st_mode & 0o777 == 0o600  # it holds the messages, personal data included
    verified = run("proof", "verify", str(proof), "--key-directory", str(directory))
    assert verified.returncode == 0, verified.stdout
    assert f"proof of {DOSSIER} holds" in verified.stdout
    acknowledged = re.findall(r"(\w+): message (\S+) to (\w+) acknowledged", verified.stdout)
    assert {(a, to) for a, _, to in acknowledged} >= {("ofii", "smoe"), ("smoe", "ofii"), ("ofii", "prefecture")}
    assert not re.search(r"to (ofii|smoe|consulat|prefecture): no receipt", verified.stdout)

    document = json.loads(proof.read_text())
    ofii = document["journals"]["ofii"]
    seq, kept = next((s, k) for s, k in ofii["kept"].items() if k["body"] and "DOE" in k["body"])
    changes = {
        "a kept message": lambda d: d["journals"]["ofii"]["kept"][seq].update(body=kept["body"].replace("DOE", "DOF")),
        "a record": lambda d: d["journals"]["smoe"]["records"][0].update(type="smoe.autre"),
        "an anchor": lambda d: d["journals"]["prefecture"]["anchors"][0].update(
            head=flipped(d["journals"]["prefecture"]["anchors"][0]["head"])
        ),
    }
    for what, change in changes.items():
        altered = json.loads(proof.read_text())
        change(altered)
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps(altered))
        failed = run("proof", "verify", str(tampered), "--key-directory", str(directory))
        assert failed.returncode == 1 and "FAILS" in failed.stdout, (what, failed.stdout)

    # The ministry kept a copy of every agency's anchors: a journal rewritten, its register's own
    # anchors deleted with it, passes a check of the register alone and fails against the copies.
    kept_copies = tmp_path / "ministere-anchors.jsonl"
    kept_copies.write_text("".join(json.dumps(c) + "\n" for c in copies))
    register = Register.for_agency("smoe", data)
    try:
        rewrite_register(register, 2)
        with register.transaction() as tx:
            tx.execute("DELETE FROM journal_anchors")
    finally:
        register.close()
    alone = run("journal", "verify", "smoe", "--data-dir", str(data), "--key-directory", str(directory))
    assert alone.returncode == 0  # nothing in the register contradicts the rewritten chain any more
    against = run(
        "journal",
        "verify",
        "smoe",
        "--data-dir",
        str(data),
        "--key-directory",
        str(directory),
        "--anchors",
        str(kept_copies),
        "--json",
    )
    verdict = json.loads(against.stdout)["smoe"]
    assert against.returncode == 1 and verdict["broken_record"] == 1 and "no anchor proves" in verdict["problem"]
