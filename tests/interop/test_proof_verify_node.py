"""A dossier's proof checked by a verifier written elsewhere (connectors/proof-verify-node, Node.js,
from docs/proof.md alone): the DT-OFII and the SMOE run in process with their keys, the employer
files, the DT-OFII's agent transmits the dossier to the SMOE (circulaire 2012, II.A.1), whose
signed receipt the DT-OFII keeps; both sign their journals' heads. `guichet dossier proof` exports
the proof; the Python verifier and the Node.js one both say it holds, and both fail it when a
single byte of a kept message, a record, an anchor or a receipt changes."""

import json
import subprocess
from pathlib import Path

import pytest

from guichet import journal as chain
from guichet.agency import Agency
from guichet.clock import VirtualClock
from guichet.envelope import Envelope
from guichet.journal_anchor import Anchorer
from guichet.register import Register, from_text
from guichet.trust import KeyDirectory, Trust
from services.bootstrap import compose
from tests.conftest import DIRECTORY
from tests.integration.test_signed_messages import START, employer_filing, make_keys
from tests.node_tools import npm_ci
from tests.services import guichet

VERIFIER = Path(__file__).parents[2] / "connectors" / "proof-verify-node"
AGENCIES = compose(DIRECTORY).agencies
DOSSIER = "D-PREUVE-NODE"


@pytest.fixture(scope="module")
def node():
    return npm_ci(VERIFIER, "to check a dossier proof as a Node.js auditor would")


def outbox_to(agency, recipient):
    rows = agency.register.read("SELECT * FROM outbox ORDER BY id")
    return [r for r in rows if r["routing_key"].startswith(f"{recipient}.")]


def deliver(sender, receiver, row):
    """The outbox row published (the broker's confirm journals it as sent), then taken by `receiver`."""
    sender.register.mark_all_published([(row, Envelope.model_validate_json(row["body"]))], sender.clock.now())
    receiver.clock.advance_to(max(receiver.clock.now(), sender.clock.now()))
    return receiver.process(row["body"], json.loads(row["headers"]))


def run_until_sent(agency, recipient, turns=20):
    """The agency's own acts and reminders, in the order they fall due, until it sends to `recipient`."""
    for _ in range(turns):
        if sent := outbox_to(agency, recipient):
            return sent
        own = [r for r in outbox_to(agency, agency.name) if r["published_at"] is None]
        row = min(own, key=lambda r: (r["due_at"], r["id"]))
        agency.clock.advance_to(max(agency.clock.now(), from_text(row["due_at"])))
        assert deliver(agency, agency, row).status == "processed"
    raise AssertionError(f"{agency.name} sent nothing to {recipient}")


@pytest.fixture(scope="module")
def proven(tmp_path_factory):
    """The proof file of the dossier and the key directory, as an auditor is given them."""
    folder = tmp_path_factory.mktemp("proof")
    directory, keys = make_keys(folder, ("ofii", "employeur", "travailleur", "prefecture", "smoe", "consulat"))
    trust = Trust(KeyDirectory(directory), keys)
    data = folder / "data"
    data.mkdir()
    made = {
        name: Agency(
            AGENCIES[name],
            Register(str(data / f"{name}.sqlite3"), name),
            VirtualClock(START),
            simulate_actors=name == "ofii",
            trust=trust,
        )
        for name in ("ofii", "smoe")
    }
    ofii, smoe = made["ofii"], made["smoe"]
    try:
        assert ofii.process(trust.sign(employer_filing(DOSSIER)).body()).status == "processed"
        (transmission,) = run_until_sent(ofii, "smoe")
        assert deliver(ofii, smoe, transmission).status == "processed"
        (receipt,) = outbox_to(smoe, "ofii")
        assert receipt["routing_key"] == "ofii.smoe.accuse_reception"
        assert deliver(smoe, ofii, receipt).status == "processed"
        for agency in made.values():
            assert Anchorer(agency.name, agency.register, trust).anchor_if_due(agency.clock.now(), force=True)
    finally:
        for agency in made.values():
            agency.register.close()
    proof = folder / "proof.json"
    exported = subprocess.run(
        guichet("dossier", "proof", DOSSIER, "--data-dir", str(data), "--output", str(proof)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert exported.returncode == 0, exported.stderr
    return proof, directory


def python_verify(proof, directory):
    return subprocess.run(
        guichet("proof", "verify", str(proof), "--key-directory", str(directory)),
        capture_output=True,
        text=True,
        timeout=120,
    )


def node_verify(node, proof, directory, *options):
    return subprocess.run(
        [node, str(VERIFIER / "verify.mjs"), str(proof), "--key-directory", str(directory), *options],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_both_verifiers_say_the_proof_holds(node, proven):
    proof, directory = proven
    document = json.loads(proof.read_text())
    assert set(document["journals"]) == {"ofii", "smoe"}
    assert any(r["direction"] == "receipt" for r in document["journals"]["ofii"]["records"])
    python = python_verify(proof, directory)
    assert python.returncode == 0, python.stdout + python.stderr
    js = node_verify(node, proof, directory)
    assert js.returncode == 0, js.stdout + js.stderr
    assert f"proof of {DOSSIER} holds" in js.stdout
    assert "ofii: message ofii.transmission_smoe to smoe acknowledged at" in js.stdout
    # Only what another administration should acknowledge is said to lack a receipt: not a
    # receipt, nor the DT-OFII's own acts sent to itself.
    assert "no receipt" not in js.stdout
    # The two verifiers see the same facts and count the same records.
    assert js.stdout == python.stdout
    report = json.loads(node_verify(node, proof, directory, "--json").stdout)
    assert report["holds"] and report["problems"] == [] and set(report["checked"]) == {"ofii", "smoe"}


def flip(text, at):
    """`text` with the character at `at` replaced by another of the same kind."""
    old = text[at]
    new = {"0": "1", "9": "8", "a": "b", "f": "e", "A": "B", "Z": "Y", "z": "y", "+": "/", "/": "+"}.get(old)
    new = new or ("0" if old.isdigit() else "x" if old != "x" else "y")
    return text[:at] + new + text[at + 1 :]


def kept_body(journal, direction):
    seq = next(str(r["seq"]) for r in journal["records"] if r["direction"] == direction)
    return journal["kept"][seq]


def change_kept_message(d):
    kept = kept_body(d["journals"]["smoe"], "in")
    kept["body"] = flip(kept["body"], kept["body"].index(DOSSIER) + 2)


def change_kept_state(d):
    kept = kept_body(d["journals"]["smoe"], "in")
    kept["state"] = flip(kept["state"], kept["state"].index(DOSSIER) + 2)


def change_record(d):
    record = d["journals"]["ofii"]["records"][0]
    record["recorded_at"] = flip(record["recorded_at"], 3)


def change_anchor_head(d):
    anchor = d["journals"]["smoe"]["anchors"][0]
    anchor["head"] = flip(anchor["head"], 0)


def change_anchor_signature(d):
    anchor = d["journals"]["ofii"]["anchors"][0]
    anchor["signature"] = flip(anchor["signature"], 5)


def change_receipt(d):
    kept = kept_body(d["journals"]["ofii"], "receipt")
    at = kept["body"].index('"message_hash"') + len('"message_hash": "') + 4
    kept["body"] = flip(kept["body"].replace('"message_hash":"', '"message_hash": "'), at)


def change_receipt_first_byte(d):
    kept = kept_body(d["journals"]["ofii"], "receipt")
    kept["body"] = "x" + kept["body"][1:]  # no longer JSON: named, not a crash of the verifier


CHANGES = {
    "a kept message body": change_kept_message,
    "a kept state": change_kept_state,
    "a record field": change_record,
    "an anchor head": change_anchor_head,
    "an anchor signature": change_anchor_signature,
    "a receipt's message_hash": change_receipt,
    "a receipt's first byte": change_receipt_first_byte,
}


@pytest.mark.parametrize("what", CHANGES)
def test_one_changed_byte_fails_both_verifiers(node, proven, tmp_path, what):
    proof, directory = proven
    document = json.loads(proof.read_text())
    CHANGES[what](document)
    assert document != json.loads(proof.read_text())
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document, ensure_ascii=False, indent=1))
    python = python_verify(tampered, directory)
    assert python.returncode == 1 and "FAILS: " in python.stdout, (what, python.stdout, python.stderr)
    js = node_verify(node, tampered, directory)
    assert js.returncode == 1 and "FAILS: " in js.stdout, (what, js.stdout, js.stderr)
    assert [line for line in js.stdout.splitlines() if line.startswith("FAILS")] == [
        line for line in python.stdout.splitlines() if line.startswith("FAILS")
    ]


def test_every_hash_form_is_recomputed_alike(node, proven):
    """The legacy and RFC 8785 forms too, over text no ASCII escape covers."""
    record = json.loads(proven[0].read_text())["journals"]["ofii"]["records"][0]
    record = {**record, "dossier_id": 'D-Ørsted — « é » \u2028 \\ "', "deadline": None}
    forms = [{**record, "canonical": form} for form in (None, "rfc8785", "rfc8785-2")]
    script = (
        f"import {{ recordHash }} from {json.dumps((VERIFIER / 'verify.mjs').as_uri())};"
        "let s='';process.stdin.on('data',(c)=>{s+=c});"
        "process.stdin.on('end',()=>console.log(JSON.stringify(JSON.parse(s).map(recordHash))));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], input=json.dumps(forms), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [chain.record_hash(r) for r in forms]


def test_an_unreadable_proof_or_a_missing_directory_is_a_usage_error(node, proven, tmp_path):
    proof, directory = proven
    (tmp_path / "broken.json").write_text("{ not json")
    assert node_verify(node, tmp_path / "broken.json", directory).returncode == 2
    assert node_verify(node, tmp_path / "absent.json", directory).returncode == 2
    assert subprocess.run([node, str(VERIFIER / "verify.mjs"), str(proof)], capture_output=True).returncode == 2
