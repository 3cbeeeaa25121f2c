"""A connector in another language verifies what the bus signs: the DT-OFII runs on memory:// with
signing on, the envelopes it sends are taken off the queues as published and written to files,
and a Node.js verifier (node:crypto Ed25519 and the `canonicalize` RFC 8785 implementation)
rebuilds the canonical bytes from each file's JSON and checks every signature."""

import json
from datetime import datetime, timedelta

import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Envelope, Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from guichet.trust import BadSignature, KeyDirectory, Trust, canonical, generate
from schemas.autorisation_travail import DepotAutorisationTravail
from schemas.base import AGENCIES
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, dossier, scenario

OFII = compose(DIRECTORY).agencies["ofii"]
START = datetime(2026, 1, 5, 9, tzinfo=PARIS)
SIRET = "55208131766522"  # the employer of both dossiers, who signs their filings with its own key
ELOISE = dossier(
    id="D-ELOISE",
    worker={"surname": "Nguyễn", "given_names": "Éloïse"},
    employer={"siret": "55208131766522", "name": "Ørsted Énergie SAS"},
    contract={"kind": "cdi", "months": None, "monthly_gross_salary_eur": 5200},
)
ORSTED = dossier(
    id="D-ORSTED",
    worker={"surname": "Ørsted", "given_names": "Søren Åge"},
    contract={"kind": "cdd", "months": 24, "monthly_gross_salary_eur": 5200.5},
)
# Facts nested as deep as a connector may send them, with the numbers where JSON writers differ.
NESTED_FACTS = {
    "simulation": {
        "seed": 42,
        "largest_safe": 2**53 - 1,
        "shares": [0.1, 0.30000000000000004, 1e-7],
        "far": 1e21,
        "minus_zero": -0.0,
        "days": {"transmission": 2.0, "instruction": 7.5},
    },
    "note": "Dossier suivi par l'antenne de Montrouge — « prioritaire »",
}


@pytest.fixture
def signed_bus(tmp_path, namespace):
    directory = KeyDirectory(tmp_path / "directory.json")
    for party in (*AGENCIES, "travailleur"):
        generate(party, tmp_path / "keys", directory, START - timedelta(days=1))
    generate("employeur", tmp_path / "keys", directory, START - timedelta(days=1), subject=SIRET)
    directory.save()
    trust = Trust(KeyDirectory(tmp_path / "directory.json"), tmp_path / "keys")
    bus = Bus("memory://", Topology(PARTIES, namespace=namespace))
    bus.declare()
    runner = Runner(
        Agency(OFII, Register(str(tmp_path / "ofii.sqlite3"), "ofii"), VirtualClock(START), trust=trust), bus
    )
    yield runner, trust, tmp_path
    runner.agency.register.close()
    bus.close()


def publish(bus, envelope):
    bus.publish_envelope(envelope)


def run_the_dt_ofii(runner, trust) -> list[bytes]:
    """Two signed filings in; the DT-OFII runs on its virtual clock until it has forwarded both to
    the SMOE. Returns every envelope that went through the bus, as published."""
    for item in scenario(ELOISE, ORSTED).dossiers:
        publish(runner.bus, trust.sign(filing(item.id, item, "circulaire-2012", START, DIRECTORY)))
    bodies, topology = [], runner.bus.topology
    for _ in range(100):
        runner.flush_outbox()
        for party in AGENCIES:
            while (message := runner.bus.get(topology.queue_name(party))) is not None:
                bodies.append(message.body if isinstance(message.body, bytes) else message.body.encode())
                if party == "ofii":
                    runner.handle(
                        message.body, message.headers, message.content_type, message.delivery_info.get("routing_key")
                    )
                message.ack()
        assert runner.bus.get(topology.queue_name("erreurs")) is None, "Python refused a signature"
        if sum(b'"ofii.transmission_smoe"' in body for body in bodies) == 2:
            return bodies
        due = runner.agency.register.next_due()
        assert due is not None, "the DT-OFII has nothing more to send"
        runner.agency.clock.advance_to(due)
    raise AssertionError("the DT-OFII did not forward both dossiers to the SMOE")


def test_node_rebuilds_the_rfc8785_bytes_and_verifies_every_signature_of_the_bus(signed_bus, node_verify):
    runner, trust, folder = signed_bus
    bodies = run_the_dt_ofii(runner, trust)
    with_nested_facts = trust.sign(
        wrap(
            DepotAutorisationTravail(dossier=scenario(ELOISE).dossiers[0].filed("circulaire-2012")),
            dossier_id="D-NESTED",
            sender=Sender(agency="employeur", office=SIRET),
            sent_at=START,
            facts=NESTED_FACTS,
        )
    )
    bodies.append(with_nested_facts.body())
    out = folder / "envelopes"
    out.mkdir()
    files = []
    for index, body in enumerate(bodies):
        files.append(out / f"{index:02d}.json")
        files[-1].write_bytes(body)
    envelopes = {f.name: Envelope.model_validate_json(f.read_bytes()) for f in files}
    transmissions = {e.dossier_id: (name, e) for name, e in envelopes.items() if e.type == "ofii.transmission_smoe"}
    assert set(transmissions) == {"D-ELOISE", "D-ORSTED"}

    code, verdicts = node_verify(folder / "directory.json", files)

    assert code == 0 and all(v["ok"] for v in verdicts.values()), verdicts
    for name, envelope in envelopes.items():  # the very bytes Python signed, rebuilt in Node
        assert envelope.canonical == "rfc8785"
        assert verdicts[name]["canonical"].encode() == canonical(envelope)
    eloise_name, eloise = transmissions["D-ELOISE"]
    assert '"monthly_gross_salary_eur":5200.0' in (out / eloise_name).read_text()  # the wire says 5200.0 ...
    assert '"monthly_gross_salary_eur":5200,' in verdicts[eloise_name]["canonical"]  # ... JCS signs 5200
    assert (
        '"given_names":"Éloïse","nationality":"IND","passport_number":null,"surname":"Nguyễn"'
        in verdicts[eloise_name]["canonical"]
    )
    assert '"name":"Ørsted Énergie SAS"' in verdicts[eloise_name]["canonical"]
    orsted_name, _ = transmissions["D-ORSTED"]
    assert '"monthly_gross_salary_eur":5200.5,' in verdicts[orsted_name]["canonical"]
    nested = verdicts[f"{len(bodies) - 1:02d}.json"]["canonical"]
    assert (
        '"simulation":{"days":{"instruction":7.5,"transmission":2},"far":1e+21,"largest_safe":9007199254740991,'
        '"minus_zero":0,"seed":42,"shares":[0.1,0.30000000000000004,1e-7]}'
    ) in nested


def test_an_envelope_rewritten_without_change_verifies_in_node_and_a_tampered_one_fails(signed_bus, node_verify):
    runner, trust, folder = signed_bus
    body = next(b for b in run_the_dt_ofii(runner, trust) if b'"ofii.transmission_smoe"' in b and b"D-ELOISE" in b)
    original = json.loads(body)
    salary = original["payload"]["dossier"]["contract"]
    # Same content, another writer: keys reversed, indented, non-ASCII escaped, 5200.0 written 5200.
    same = json.loads(body)
    same["payload"]["dossier"]["contract"]["monthly_gross_salary_eur"] = int(salary["monthly_gross_salary_eur"])
    rewritten = json.dumps(dict(reversed(list(same.items()))), indent=4, ensure_ascii=True)
    tampered = {
        "salary": lambda e: e["payload"]["dossier"]["contract"].update(monthly_gross_salary_eur=5201),
        "name": lambda e: e["payload"]["dossier"]["worker"].update(surname="Nguyen"),
        "facts": lambda e: e["facts"].update(ofii_transmission_days=1.5),
        "legacy_form": lambda e: e.update(canonical=None),
    }
    files = [folder / "rewritten.json"]
    files[0].write_text(rewritten)
    for label, change in tampered.items():
        copy = json.loads(body)
        change(copy)
        files.append(folder / f"tampered-{label}.json")
        files[-1].write_text(json.dumps(copy))

    code, verdicts = node_verify(folder / "directory.json", files)

    assert code == 1
    assert verdicts["rewritten.json"]["ok"], verdicts["rewritten.json"]
    for label in ("salary", "name", "facts"):
        assert verdicts[f"tampered-{label}.json"] == {
            **verdicts[f"tampered-{label}.json"],
            "ok": False,
            "reason": "bad_signature",
        }
    assert not verdicts["tampered-legacy_form.json"]["ok"]
    with pytest.raises(BadSignature):  # and Python agrees
        trust.verify(Envelope.model_validate_json(files[1].read_text()))
