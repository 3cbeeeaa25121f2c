"""The Node.js consulate (connectors/consulat-node) in the place of the Python one: the DT-OFII, the
SMOE and the préfecture as Python service processes, the consulate as a Node.js process written
from the published contract, on RabbitMQ. Every dossier that involves the consulate ends as it ends
in an all-Python run of the same scenario (`guichet simulate`), unsigned and signed; a tampered, an
unsigned and a schema-violating message are refused to the error queue and change nothing; a
redelivered message is absorbed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kombu import Connection, Exchange, Producer, Queue

from guichet.envelope import Sender, wrap
from guichet.key_directory import KeyDirectory
from guichet.trust import Trust
from schemas.dossier import Dossier
from schemas.visa import TransmissionConsulat
from tests.conftest import delete_namespace, dossier, wait_until
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
def node_consulate() -> list[str]:
    """The connector installed from its lock file; the command that runs it. Node.js and npm are
    required: this test fails, never skips, without them."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail("node and npm are needed to run the Node.js consulate (install Node.js 18+)")
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=CONNECTOR, capture_output=True, text=True, timeout=300
    )
    if installed.returncode != 0:
        pytest.fail(f"npm ci in {CONNECTOR} failed: {installed.stderr.strip()[-2000:]}")
    return [node, str(CONNECTOR / "src" / "main.mjs")]


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
                bad |= {"TAMPERED": "bad_signature", "UNSIGNED": "unsigned"}
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


def node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed: bool) -> subprocess.CompletedProcess:
    """`guichet conformance consulat` against the Node.js consulate alone on the bus."""
    from tests.integration.test_signed_messages import make_keys

    signing: list[str] = []
    node_signing: list[str] = []
    if signed:
        directory, keys = make_keys(tmp_path, ("ofii", "smoe", "consulat", "prefecture", "employeur", "travailleur"))
        signing = ["--key-directory", str(directory), "--keys-dir", str(keys)]
        node_signing = [*signing, "--require-signatures"]
    clock = ["--time-scale", repr(float(TIME_SCALE)), "--clock-origin", datetime.now(UTC).isoformat()]
    bus = {"bus": ["--broker", amqp_url, "--namespace", namespace], "clock": clock}
    try:
        with node_process(node_consulate, bus, tmp_path, node_signing):
            return subprocess.run(
                guichet("conformance", "consulat", *bus["bus"], *clock, *signing),
                capture_output=True,
                text=True,
                timeout=400,
            )
    finally:
        delete_namespace(amqp_url, namespace)


def test_node_consulate_passes_guichet_conformance_unsigned(amqp_url, namespace, tmp_path, node_consulate):
    done = node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed=False)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "CONFORMS" in done.stdout


def test_node_consulate_passes_guichet_conformance_signed(amqp_url, namespace, tmp_path, node_consulate):
    done = node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed=True)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "ok      signatures valid" in done.stdout and "CONFORMS" in done.stdout
