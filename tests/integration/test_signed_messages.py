"""Trust between agencies: receivers check every signature before any handler runs. A forged
message (right sender name, wrong key) and an altered payload land in the error queue with the
reason, and the dossier's state does not change. Then the four services sign end to end."""

import json
import subprocess
from datetime import date, datetime, timedelta

import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from guichet.trust import KeyDirectory, Trust, generate
from schemas.base import AGENCIES
from schemas.titre import Recepisse
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, dossier, scenario, wait_until
from tests.services import guichet, running_services
from tests.unit.test_signing import sign_with

OFII = compose(DIRECTORY).agencies["ofii"]

START = datetime(2026, 1, 5, 9, tzinfo=PARIS)


SIRET = "55208131766522"  # the employer of tests.conftest.dossier()


def make_keys(folder, parties):
    """A key for each party; for the employer, the key of the one employer that files (by SIRET)."""
    directory = KeyDirectory(folder / "directory.json")
    for party in parties:
        generate(
            party,
            folder / "keys",
            directory,
            START - timedelta(days=1),
            subject=SIRET if party == "employeur" else None,
        )
    directory.save()
    return folder / "directory.json", folder / "keys"


def employer_filing(dossier_id):
    """The deposit as the portal sends it, from the employer it authenticated, by SIRET."""
    envelope = filing(dossier_id, scenario(dossier(id=dossier_id)).dossiers[0], "circulaire-2012", START, DIRECTORY)
    return envelope.model_copy(update={"sender": Sender(agency="employeur", office=SIRET)})


@pytest.fixture
def signed_ofii(broker, namespace, tmp_path):
    directory, keys = make_keys(tmp_path, ("ofii", "employeur", "travailleur", "prefecture", "smoe"))
    trust = Trust(KeyDirectory(directory), keys)
    bus = Bus(broker, Topology(PARTIES, namespace=namespace))
    bus.declare()
    runner = Runner(
        Agency(OFII, Register(str(tmp_path / "ofii.sqlite3"), "ofii"), VirtualClock(START), trust=trust), bus
    )
    yield runner, trust
    runner.agency.register.close()
    bus.delete_topology()
    bus.close()


def publish(runner, envelope):
    runner.bus.publish_envelope(envelope)


def test_forged_and_altered_messages_go_to_the_error_queue_and_change_nothing(signed_ofii):
    runner, trust = signed_ofii
    publish(runner, trust.sign(employer_filing("D-1")))
    assert runner.poll_once()
    before = runner.agency.register.state("D-1")
    assert before["waiting_for"] == "transmission_smoe"

    recepisse = wrap(
        Recepisse(valid_until=date(2026, 6, 1)), dossier_id="D-1", sender=Sender(agency="prefecture"), sent_at=START
    )
    smoe_key = trust.directory.current("smoe", START).key_id
    forged = sign_with(trust, smoe_key, recepisse)  # right sender name, wrong key
    altered = trust.sign(recepisse).model_copy(update={"payload": {"valid_until": "2030-01-01"}})
    unsigned = recepisse
    for envelope in (forged, altered, unsigned):
        publish(runner, envelope)
    while runner.poll_once():
        pass
    assert runner.agency.register.state("D-1") == before

    reasons = []
    while (message := runner.bus.get(runner.bus.topology.queue_name("erreurs"))) is not None:
        reasons.append(message.headers["x-guichet-error-reason"])
        message.ack()
    assert reasons == ["wrong_sender_key", "bad_signature", "unsigned"]


@pytest.mark.broker
def test_four_services_sign_and_verify_every_message_end_to_end(amqp_url, namespace, tmp_path, monkeypatch):
    directory, keys = make_keys(tmp_path, (*AGENCIES, "employeur", "travailleur"))
    monkeypatch.setenv("GUICHET_KEY_DIRECTORY", str(directory))
    monkeypatch.setenv("GUICHET_KEYS_DIR", str(keys))
    with running_services(amqp_url, namespace, tmp_path, 400_000) as bus:
        path = tmp_path / "s.json"
        path.write_text(
            json.dumps(
                {
                    "dossiers": [
                        dossier(id="SIGNED", title="carte_bleue_europeenne", facts={"prefecture_production_days": 1})
                    ]
                }
            )
        )
        subprocess.run(
            guichet("submit", str(path), *bus["bus"], *bus["clock"]), check=True, capture_output=True, timeout=60
        )

        def handed_over():
            shown = subprocess.run(
                guichet("dossier", "show", "SIGNED", "--data-dir", str(bus["data"]), "--json"),
                capture_output=True,
                text=True,
            )
            return shown.returncode == 0 and json.loads(shown.stdout)["outcome"] == "titre_remis"

        wait_until(handed_over, 60, "the signed dossier handed over")
        check = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
        assert check.depth(check.topology.queue_name("erreurs")) == 0, "no signature was refused"
        check.close()
