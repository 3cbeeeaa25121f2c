"""Keys withdrawn while the services run, on the real RabbitMQ: the DT-OFII refuses an employer's
key within the directory's reload delay of its revocation, a message backdated before the
revocation is refused after it (also after a restart), an employer cannot sign with another
employer's key; `guichet run` on RabbitMQ warns when it runs unsigned and plays no simulated act
unless asked."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from datetime import UTC, datetime, timedelta

import pytest

from guichet.bus import Bus
from guichet.envelope import Sender
from guichet.key_directory import RELOAD_SECONDS
from guichet.register_reader import RegisterReader
from guichet.topology import Topology
from guichet.trust import KeyDirectory, Trust
from guichet_simulation.launcher import ServiceProcesses
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, delete_namespace, dossier, scenario, wait_until
from tests.services import guichet
from tests.unit.test_signing import sign_with

pytestmark = pytest.mark.broker

SIRET_A, SIRET_B = "55208131766522", "73282932000074"
# The reload delay, plus the time a probe takes from publish to handling on a busy machine.
SLACK_SECONDS = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def employer_filing(dossier_id: str, siret: str, at: datetime):
    """The employer's deposit as the portal sends it: from the employer it authenticated, by SIRET."""
    filed = scenario(dossier(id=dossier_id, employer={"siret": siret, "name": "Exemple SA"})).dossiers[0]
    envelope = filing(dossier_id, filed, "circulaire-2012", at, DIRECTORY)
    return envelope.model_copy(update={"sender": Sender(agency="employeur", office=siret)})


class ErrorQueue:
    """What the error queue holds, by message id: the reason each was refused with."""

    def __init__(self, bus: Bus):
        self.bus, self.reasons = bus, {}

    def reason(self, message_id) -> str | None:
        while (message := self.bus.get(self.bus.topology.queue_name("erreurs"))) is not None:
            self.reasons[json.loads(message.body)["message_id"]] = message.headers["x-guichet-error-reason"]
            message.ack()
        return self.reasons.get(str(message_id))


@pytest.fixture
def keys(tmp_path):
    assert (
        subprocess.run(
            guichet(
                "keys",
                "init",
                "--keys-root",
                str(tmp_path / "keys"),
                "--directory",
                str(tmp_path / "public" / "directory.json"),
                "--employers",
                f"{SIRET_A},{SIRET_B}",
            ),
            capture_output=True,
            timeout=60,
        ).returncode
        == 0
    )
    return tmp_path / "public" / "directory.json", tmp_path / "keys"


def test_a_key_revoked_while_the_dt_ofii_runs_is_refused_within_the_reload_delay(amqp_url, namespace, tmp_path, keys):
    directory, root = keys
    port = free_port()
    ofii = ServiceProcesses(
        amqp_url,
        namespace,
        tmp_path / "data",
        1.0,
        datetime.now(UTC),
        agencies=("ofii",),
        simulated_actors=False,
        log_dir=tmp_path,
        options=[
            "--key-directory",
            str(directory),
            "--keys-dir",
            str(root / "ofii"),
            "--require-signatures",
            "--http-port",
            str(port),
        ],
    )
    portal = Trust(KeyDirectory(directory), root / "portal")
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    errors = ErrorQueue(bus)
    try:
        bus.declare()
        ofii.start_all()
        accepted = portal.sign(employer_filing("D-BEFORE", SIRET_A, datetime.now(UTC)))
        bus.publish_envelope(accepted)
        with RegisterReader("ofii", tmp_path / "data") as reader:
            wait_until(lambda: reader.state("D-BEFORE"), 30, "the DT-OFII recording a validly signed filing")

        key_a = accepted.key_id
        revoked = subprocess.run(
            guichet("keys", "revoke", "employeur", key_a, "--directory", str(directory)),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert revoked.returncode == 0, revoked.stderr
        revoked_at = KeyDirectory(directory).get(key_a).valid_until
        since = time.monotonic()

        # Probes signed with the revoked key, one at each look: the first refused comes within the delay.
        probes: list = []

        def a_probe_refused():
            probes.append(
                (
                    sign_with(portal, key_a, employer_filing(f"D-PROBE-{len(probes)}", SIRET_A, datetime.now(UTC))),
                    time.monotonic(),
                )
            )
            bus.publish_envelope(probes[-1][0])
            return next((at for envelope, at in probes if errors.reason(envelope.message_id) == "expired_key"), None)

        first_refused = wait_until(a_probe_refused, 30, "a probe signed with the revoked key refused", interval=0.2)
        assert first_refused - since <= RELOAD_SECONDS + SLACK_SECONDS

        # Dated before the revocation, sent after it: refused, judged on the DT-OFII's clock; and again
        # after the service restarted (it reads the directory as it is, not as it was).
        for restart in (False, True):
            if restart:
                assert ofii.stop("ofii") == 0
                ofii.start("ofii")
                ofii.wait_ready()
            backdated = sign_with(
                portal, key_a, employer_filing(f"D-BACKDATED-{restart}", SIRET_A, revoked_at - timedelta(minutes=1))
            )
            bus.publish_envelope(backdated)
            assert (
                wait_until(lambda b=backdated: errors.reason(b.message_id), 30, "the backdated filing filed")
                == "expired_key"
            )

        # Employer B's deposit signed with employer A's key (still valid: the portal's other key).
        key_b = KeyDirectory(directory).current("employeur", datetime.now(UTC), SIRET_B).key_id
        other = sign_with(portal, key_b, employer_filing("D-OTHER", SIRET_A, datetime.now(UTC)))
        bus.publish_envelope(other)
        assert (
            wait_until(lambda: errors.reason(other.message_id), 30, "the filing with another employer's key")
            == "wrong_sender_key"
        )
        # B's own key still works.
        own = portal.sign(employer_filing("D-OWN-B", SIRET_B, datetime.now(UTC)))
        bus.publish_envelope(own)
        with RegisterReader("ofii", tmp_path / "data") as reader:
            wait_until(lambda: reader.state("D-OWN-B"), 30, "the DT-OFII recording employer B's own filing")
            refused = {e.dossier_id for e, _ in probes if errors.reason(e.message_id)}
            refused |= {"D-BACKDATED-False", "D-BACKDATED-True", "D-OTHER"}
            assert not refused & set(reader.states()), "a refused filing changed the register"
            # Every refused signature is in the DT-OFII's journal, the register's evidence.
            journaled = {
                r["dossier_id"]
                for r in reader.rows("SELECT dossier_id FROM journal WHERE direction = 'in_signature_refused'")
            }
            assert refused <= journaled, f"refused signatures missing from the journal: {refused - journaled}"
        assert "signature refused" in ofii.log_tail("ofii", 200)
    finally:
        ofii.stop_all()
        bus.close()
        delete_namespace(amqp_url, namespace)


def test_guichet_run_on_rabbitmq_without_keys_warns_naming_the_risk(amqp_url, namespace, tmp_path):
    log = tmp_path / "ofii.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            guichet(
                "run", "ofii", "--broker", amqp_url, "--namespace", namespace, "--data-dir", str(tmp_path / "data")
            ),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_until(lambda: '"signatures are off' in log.read_text(), 30, "the unsigned DT-OFII's warning")
        text = log.read_text()
        assert "guichet run: WARNING: signatures are off on amqp://127.0.0.1:5672//" in text
        assert "can speak for any agency" in text
        warned = [
            json.loads(line) for line in text.splitlines() if line.startswith("{") and "signatures are off" in line
        ]
        assert warned and warned[0]["level"] == "warning"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        delete_namespace(amqp_url, namespace)


def test_guichet_run_requiring_signatures_refuses_to_start_without_keys(amqp_url, namespace, tmp_path):
    done = subprocess.run(
        guichet(
            "run",
            "ofii",
            "--broker",
            amqp_url,
            "--namespace",
            namespace,
            "--data-dir",
            str(tmp_path),
            "--require-signatures",
        ),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--require-signatures: no key directory" in done.stderr, done.stderr


def simulated_acts(data, dossier_id: str) -> list[str]:
    with RegisterReader("ofii", data) as reader:
        rows = reader.rows("SELECT body FROM outbox WHERE dossier_id = ?", dossier_id)
    bodies = [json.loads(r["body"]) for r in rows]
    return [b["type"] for b in bodies if b["sender"].get("office") == "simulation"]


@pytest.mark.parametrize("simulated", [False, True], ids=["default", "simulated_actors"])
def test_guichet_run_plays_no_simulated_act_unless_asked(amqp_url, namespace, tmp_path, simulated):
    ofii = ServiceProcesses(
        amqp_url,
        namespace,
        tmp_path / "data",
        1.0,
        datetime.now(UTC),
        agencies=("ofii",),
        simulated_actors=simulated,
        log_dir=tmp_path,
        options=["--http-port", str(free_port())],
    )
    bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    try:
        bus.declare()
        ofii.start_all()
        bus.publish_envelope(
            filing(
                "D-ACTORS",
                scenario(dossier(id="D-ACTORS")).dossiers[0],
                "circulaire-2012",
                datetime.now(UTC),
                DIRECTORY,
            )
        )
        with RegisterReader("ofii", tmp_path / "data") as reader:
            # The state and the outbox rows its handling caused commit together.
            wait_until(lambda: reader.state("D-ACTORS"), 30, "the DT-OFII recording the filing")
        acts = simulated_acts(tmp_path / "data", "D-ACTORS")
        assert bool(acts) is simulated, acts
        assert ("simulated actors are on" in ofii.log_tail("ofii", 200)) is simulated
    finally:
        ofii.stop_all()
        bus.close()
        delete_namespace(amqp_url, namespace)
