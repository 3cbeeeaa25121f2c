"""A connector written in another language signs the JSON it sends, as RFC 8785 says, with no
knowledge of how Python writes an envelope: optional members left out, `sent_at` in UTC written
`+00:00` or with milliseconds and `Z`, members in any order, whitespace anywhere. The receiver
checks the signature over the JSON it received, so all of these are accepted; one byte changed or
one member added after signing is refused as bad_signature, and the dossier is not touched."""

import base64
import json
from datetime import UTC

import pytest
import rfc8785

from tests.integration.test_signed_messages import employer_filing, signed_ofii  # noqa: F401 (fixture)

SIRET = "55208131766522"


def foreign_body(trust, dossier_id, sent_at, *, reorder=False, indent=None, tamper=None):
    """The deposit as a foreign signer writes it: a hand-built dict signed with the `rfc8785`
    library, not with guichet's signer; `tamper` changes the dict after signing."""
    envelope = employer_filing(dossier_id)
    built = {k: v for k, v in json.loads(envelope.body()).items() if v is not None}  # absent, not null
    key_id = trust.directory.current("employeur", envelope.sent_at, SIRET).key_id
    built.update(sent_at=sent_at(envelope.sent_at.astimezone(UTC)), canonical="rfc8785", key_id=key_id)
    built["signature"] = base64.b64encode(trust.private[key_id].sign(rfc8785.dumps(built))).decode()
    if tamper:
        tamper(built)
    if reorder:
        built = dict(reversed(list(built.items())))
    return json.dumps(built, indent=indent, ensure_ascii=False), envelope


def publish_raw(runner, body, envelope):
    runner.bus.publish(body, envelope.routing_key, envelope.headers(), str(envelope.message_id))


def drain(runner):
    while runner.poll_once():
        pass
    reasons = []
    while (message := runner.bus.get(runner.bus.topology.queue_name("erreurs"))) is not None:
        reasons.append(message.headers["x-guichet-error-reason"])
        message.ack()
    return reasons


def plus_zero(at):
    return at.isoformat()  # 2026-01-05T08:00:00+00:00


def milliseconds_z(at):
    return at.strftime("%Y-%m-%dT%H:%M:%S") + ".200Z"


@pytest.mark.broker
def test_a_foreign_signers_envelopes_are_accepted_whatever_their_form(signed_ofii):  # noqa: F811
    runner, trust = signed_ofii
    cases = {
        "F-1": dict(sent_at=plus_zero),
        "F-2": dict(sent_at=milliseconds_z, reorder=True),
        "F-3": dict(sent_at=plus_zero, reorder=True, indent=3),
    }
    for dossier_id, form in cases.items():
        publish_raw(runner, *foreign_body(trust, dossier_id, **form))
    assert drain(runner) == []
    for dossier_id in cases:
        assert runner.agency.register.state(dossier_id)["waiting_for"] == "transmission_smoe"


def change_one_byte(built):
    text = json.dumps(built["payload"])
    assert SIRET in text
    built["payload"] = json.loads(text.replace(SIRET, SIRET[:-1] + "3", 1))


def add_a_member(built):
    built["causation_id"] = "0190f0d2-5a4b-7c3d-8e9f-0a1b2c3d4e5f"


@pytest.mark.broker
def test_a_foreign_envelope_changed_after_signing_is_refused(signed_ofii):  # noqa: F811
    runner, trust = signed_ofii
    for dossier_id, tamper in (("T-1", change_one_byte), ("T-2", add_a_member)):
        body, envelope = foreign_body(trust, dossier_id, plus_zero, tamper=tamper)
        assert body != foreign_body(trust, dossier_id, plus_zero)[0]
        publish_raw(runner, body, envelope)
    assert drain(runner) == ["bad_signature", "bad_signature"]
    assert runner.agency.register.state("T-1") is None and runner.agency.register.state("T-2") is None


@pytest.mark.broker
def test_a_member_named_twice_is_refused_rather_than_read_two_ways(signed_ofii):  # noqa: F811
    """The signature covers one reading of a duplicated member; the envelope's reader could keep the other."""
    runner, trust = signed_ofii
    body, envelope = foreign_body(trust, "T-3", plus_zero)
    publish_raw(runner, body[:-1] + ', "dossier_id": "T-3"}', envelope)
    assert drain(runner) == ["not_canonical"]
    assert runner.agency.register.state("T-3") is None
