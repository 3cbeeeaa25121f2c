"""The Node.js consulate (connectors/consulat-node) in the place of the Python one: the DT-OFII, the
SMOE and the préfecture as Python service processes, the consulate as a Node.js process written
from the published contract, on RabbitMQ. Every dossier that involves the consulate ends as it ends
in an all-Python run of the same scenario (`guichet simulate`), unsigned and signed; a tampered, an
unsigned and a schema-violating message are refused to the error queue and change nothing; a
redelivered message is absorbed. Signed, the DT-OFII and the consulate each keep the other's
signed receipts of what they sent, and a receipt of a message the consulate never sent, signed
with the DT-OFII's own key, is refused (receipt_mismatch)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from guichet.key_directory import KeyDirectory
from guichet.trust import Trust
from tests.conftest import dossier, wait_until
from tests.interop.node_consulate import (
    forged_receipt,
    node_process,
    notices,
    receipts_exchanged,
    refusals,
    send_envelope,
    transmission,
)
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker

CONNECTOR = Path(__file__).parents[2] / "connectors" / "consulat-node"
TIME_SCALE = 200_000  # a legal day in about 0.4 s
PYTHON_AGENCIES = ("ofii", "smoe", "prefecture")
# What a dossier became, as the scenario contract reports it, without the instants: the bus clock
# of a process run is not the simulation's virtual one.
COMPARED = (
    "route",
    "outcome",
    "smoe",
    "prefecture",
    "medical_visit_required",
    "second_convocation",
    "returned_to_prefecture",
    "recepisse",
    "deposit_late",
    "employer_tax_eur",
    "deadline_breaches",
)

# Every title the consulate takes part in, and each way its decision can go.
DOSSIERS = [
    dossier(id="MISSION", family={"spouse": True, "minor_children": 1}),
    dossier(id="CARTE-BLEUE", title="carte_bleue_europeenne", employment_department="69", residence_department="69"),
    dossier(id="TALENTS", title="competences_et_talents", employment_department="69", residence_department="69"),
    dossier(
        id="TALENTS-REFUS",
        title="competences_et_talents",
        employment_department="69",
        residence_department="69",
        facts={"visa_granted": False},
    ),
    dossier(id="JEUNE-PRO", title="jeune_professionnel"),
    dossier(id="AUTRE", title="autre"),
    dossier(id="VISA-REFUS", facts={"visa_granted": False}),
    dossier(id="VISA-PRESQUE-TARD", facts={"visa_instruction_days": 13}),
    dossier(id="VISA-EN-RETARD", facts={"visa_instruction_days": 18}),
]


def summary(d: dict) -> dict:
    return {
        **{k: d.get(k) for k in COMPARED},
        "family": [(m["role"], m["titre"]) for m in d.get("family") or []],
        "titre": (d.get("titre") or {}).get("kind"),
        "steps": [(s["step"], s["from"], s["to"], s.get("late")) for s in d["steps"]],
    }


def untimed(s: dict) -> dict:
    """A summary without what depends on how long a step took."""
    return {
        **{k: v for k, v in s.items() if k != "deadline_breaches"},
        "steps": [step[:3] for step in s["steps"]],
    }


@pytest.fixture(scope="session")
def reference(tmp_path_factory) -> dict[str, dict]:
    """The same dossiers in an all-Python run: the embedded simulation."""
    folder = tmp_path_factory.mktemp("reference")
    scenario = folder / "scenario.json"
    scenario.write_text(json.dumps({"dossiers": DOSSIERS}))
    done = subprocess.run(
        guichet("simulate", "--scenario", str(scenario), "--json"), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {d["id"]: summary(d) for d in json.loads(done.stdout)["dossiers"]}


def test_node_consulate_modules_pass_their_own_tests(node_consulate, tmp_path):
    """node's test runner on the connector's modules: the published signature test vectors verify
    and are reproduced by its signer, the Paris calendar, strict validation on the exported schemas."""
    schemas = tmp_path / "schemas-json"
    exported = subprocess.run(guichet("schemas", "export", "--out", str(schemas)), capture_output=True, timeout=60)
    assert exported.returncode == 0, exported.stderr
    done = subprocess.run(
        [node_consulate[0], "--test", "test/"],
        cwd=CONNECTOR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "GUICHET_SCHEMAS": str(schemas)},
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout and "# skipped 0" in done.stdout, done.stdout[-2000:]


def keys_for(tmp_path: Path) -> tuple[Path, Path]:
    root, directory = tmp_path / "keys", tmp_path / "public" / "directory.json"
    sirets = sorted({d["employer"]["siret"] for d in DOSSIERS})
    done = subprocess.run(
        guichet(
            "keys", "init", "--keys-root", str(root), "--directory", str(directory), "--employers", ",".join(sirets)
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return root, directory


def ofii_view(data: Path, dossier_id: str) -> dict | None:
    shown = subprocess.run(
        guichet("dossier", "show", dossier_id, "--data-dir", str(data), "--json"),
        capture_output=True,
        text=True,
        timeout=30,
    )
    if shown.returncode != 0:
        return None
    view = json.loads(shown.stdout)
    return view if view.get("outcome") not in (None, "en_cours") else None


def run_and_compare(amqp_url, namespace, tmp_path, node_consulate, reference, signed: bool, crash: bool = False):
    python_signing: list[str] = []
    node_signing: list[str] = []
    agency_options: dict[str, list[str]] = {}
    trust = None
    if signed:
        root, directory = keys_for(tmp_path)
        python_signing = ["--key-directory", str(directory), "--require-signatures"]
        agency_options = {
            a: ["--keys-dir", os.pathsep.join([str(root / a), *([str(root / "portal")] if a == "ofii" else [])])]
            for a in PYTHON_AGENCIES
        }
        node_signing = ["--key-directory", str(directory), "--keys-dir", str(root / "consulat"), "--require-signatures"]
        trust = Trust(KeyDirectory(directory), root / "ofii")
    extra = {a: [*python_signing, *agency_options.get(a, [])] for a in PYTHON_AGENCIES}
    with running_services(amqp_url, namespace, tmp_path, TIME_SCALE, agencies=PYTHON_AGENCIES, extra=extra) as bus:
        with node_process(node_consulate, bus, tmp_path, node_signing) as node:
            log, state_file = node.log, node.state_file
            # What the consulate must not act on, sent before the dossiers.
            invalid = json.loads(transmission("INVALID", trust).body())
            invalid["payload"]["stamp"] = 5  # a string by the schema
            if signed:
                invalid = json.loads(Trust.sign(trust, _unsigned(invalid)).body())
            send_envelope(amqp_url, namespace, invalid)
            bad = {"INVALID": "invalid_payload"}
            if signed:
                tampered = json.loads(transmission("TAMPERED", trust).body())
                tampered["payload"]["family"]["minor_children"] = 3  # valid, but not what was signed
                send_envelope(amqp_url, namespace, tampered)
                unsigned = json.loads(transmission("UNSIGNED", None).body())
                send_envelope(amqp_url, namespace, unsigned)
                send_envelope(amqp_url, namespace, forged_receipt(trust, "FORGED-RECEIPT"))
                bad |= {"TAMPERED": "bad_signature", "UNSIGNED": "unsigned", "FORGED-RECEIPT": "receipt_mismatch"}
            # The same message twice: the second delivery is absorbed.
            double = json.loads(transmission("DOUBLE", trust).body())
            send_envelope(amqp_url, namespace, double)
            send_envelope(amqp_url, namespace, double)

            scenario = tmp_path / "scenario.json"
            scenario.write_text(json.dumps({"dossiers": DOSSIERS}))
            # The submitting tool plays the employers and the worker (the portal's keys) and the DT-OFII.
            portal = os.pathsep.join([str(root / "portal"), str(root / "ofii")]) if signed else ""
            submit_signing = ["--key-directory", str(directory), "--keys-dir", portal] if signed else []
            submitted = subprocess.run(
                guichet("submit", str(scenario), *bus["bus"], *bus["clock"], *submit_signing),
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert submitted.returncode == 0, submitted.stderr
            if crash:
                # Killed while dossiers are on their way, then started again on the same register.
                wait_until(lambda: log.read_text().count('"event":"processed"') >= 6, 60, "the consulate at work")
                node.kill()
                node.start()

            def all_done():
                views = {d["id"]: ofii_view(bus["data"], d["id"]) for d in DOSSIERS}
                return views if all(views.values()) else None

            views = wait_until(all_done, 240, "every dossier at its outcome at the DT-OFII")
            node.check_running()
            got = {i: summary(v) for i, v in views.items()}
            for dossier_id, expected in reference.items():
                if crash:
                    # The second or so the consulate is down is days of legal time on this clock:
                    # a decision due meanwhile goes out late, rightly. Everything else is the same.
                    assert untimed(got[dossier_id]) == untimed(expected), dossier_id
                else:
                    assert got[dossier_id] == expected, dossier_id

            wait_until(lambda: bad.items() <= refusals(amqp_url, namespace).items(), 30, f"the refusals {bad}")
            # Published as guest, claiming to be the DT-OFII: on a bus without per-party accounts
            # the claimed sender is told.
            wait_until(lambda: bad.items() <= notices(amqp_url, namespace, "ofii").items(), 30, f"the notices {bad}")
            state = json.loads(state_file.read_text())
            for dossier_id in bad:
                assert dossier_id not in state["dossiers"], f"the consulate acted on {dossier_id}"
            assert double["message_id"] in state["processed"]
            wait_until(
                lambda: any(
                    '"event":"sent"' in line and '"dossier_id":"DOUBLE"' in line and "consulat.decision_visa" in line
                    for line in log.read_text().splitlines()
                ),
                30,
                "the decision on DOUBLE",
            )
            # One decision (a crash between the broker's confirm and the outbox's record may send the
            # same message twice: under one message id, which receivers absorb).
            decisions = {
                json.loads(line)["message_id"]
                for line in log.read_text().splitlines()
                if '"event":"sent"' in line and '"dossier_id":"DOUBLE"' in line and "consulat.decision_visa" in line
            }
            assert len(decisions) == 1, "a redelivered message was handled twice"
            if signed:
                ids = {d["id"] for d in DOSSIERS}
                try:
                    wait_until(lambda: receipts_exchanged(bus["data"], state_file, ids) is None, 30, "the receipts")
                except pytest.fail.Exception:
                    pytest.fail(str(receipts_exchanged(bus["data"], state_file, ids)))
            for a, p in bus["procs"].items():
                assert p.poll() is None, f"{a} stopped: {(tmp_path / f'{a}.log').read_text()[-2000:]}"


def _unsigned(data: dict):
    from guichet.envelope import Envelope

    return Envelope.model_validate({**data, "canonical": None, "key_id": None, "signature": None})


def test_node_consulate_unsigned_same_outcomes_as_python(amqp_url, namespace, tmp_path, node_consulate, reference):
    run_and_compare(amqp_url, namespace, tmp_path, node_consulate, reference, signed=False)


def test_node_consulate_signed_same_outcomes_as_python(amqp_url, namespace, tmp_path, node_consulate, reference):
    run_and_compare(amqp_url, namespace, tmp_path, node_consulate, reference, signed=True)


def test_node_consulate_killed_and_restarted_loses_and_doubles_nothing(
    amqp_url, namespace, tmp_path, node_consulate, reference
):
    run_and_compare(amqp_url, namespace, tmp_path, node_consulate, reference, signed=False, crash=True)
