"""Every inbound payload is validated as its published JSON Schema says, JSON types strictly, and a
refusal lists every error with its field path, as text and as data, bounded in length."""

import json
from datetime import datetime

import pytest

from guichet.envelope import InvalidPayload, Sender, decode, wrap
from guichet.timeutil import PARIS
from guichet.validation import MAX_LISTED
from schemas.actes import DecisionConsul
from tests.conftest import MESSAGES

SENT_AT = datetime(2026, 1, 5, 9, tzinfo=PARIS)


def decision(**payload):
    envelope = wrap(DecisionConsul(granted=True), dossier_id="D-1", sender=Sender(agency="consulat"), sent_at=SENT_AT)
    raw = json.loads(envelope.body())
    raw["payload"].update(payload)
    return json.dumps(raw).encode()


def refusal(body) -> InvalidPayload:
    with pytest.raises(InvalidPayload) as refused:
        decode(body, messages=MESSAGES)
    return refused.value


def test_a_boolean_written_as_a_string_is_refused_naming_its_field():
    refused = refusal(decision(granted="yes"))
    assert refused.reason == "invalid_payload"
    assert [e["field"] for e in refused.errors] == ["payload.granted"]
    assert "payload.granted: Input should be a valid boolean" in str(refused)


def test_every_wrong_field_is_listed_not_only_the_first():
    refused = refusal(decision(granted="yes", validity_days="5", reason=7))
    assert [e["field"] for e in refused.errors] == ["payload.granted", "payload.validity_days", "payload.reason"]
    for field in ("payload.granted", "payload.validity_days", "payload.reason"):
        assert field in str(refused)
    assert all(set(e) == {"field", "error"} and e["error"] for e in refused.errors)


@pytest.mark.parametrize("number", ["5200", "5200.0", "1e3"])
def test_numbers_written_as_strings_are_refused(number):
    refused = refusal(decision(validity_days=number))
    assert refused.errors == [{"field": "payload.validity_days", "error": "Input should be a valid integer"}]


def test_a_salary_written_as_a_string_is_refused_deep_in_the_payload():
    from tests.unit.test_canonical_rfc8785 import filing

    raw = json.loads(filing().body())
    raw["payload"]["dossier"]["contract"]["monthly_gross_salary_eur"] = "5200"
    refused = refusal(json.dumps(raw).encode())
    assert [e["field"] for e in refused.errors] == ["payload.dossier.contract.monthly_gross_salary_eur"]


def test_valid_json_payloads_with_dates_and_numbers_are_still_accepted():
    from tests.unit.test_canonical_rfc8785 import filing

    envelope, message = decode(filing().body(), messages=MESSAGES)
    assert message.dossier.contract.monthly_gross_salary_eur == 5200  # written 5200.0, or 5200
    raw = json.loads(filing().body())
    raw["payload"]["dossier"]["contract"]["monthly_gross_salary_eur"] = 5200
    decode(json.dumps(raw).encode(), messages=MESSAGES)
    _, accepted = decode(decision(granted=False, validity_days=90, reason="refus"), messages=MESSAGES)
    assert accepted == DecisionConsul(granted=False, validity_days=90, reason="refus")


def test_the_envelope_is_validated_strictly_and_every_error_listed():
    raw = json.loads(decision())
    raw.update(sent_at=1767600000, causation_id=5, recipient=1)
    refused = refusal(json.dumps(raw).encode())
    assert {e["field"] for e in refused.errors} == {"sent_at", "causation_id", "recipient"}
    assert str(refused).startswith("envelope: ")


def test_a_hostile_payload_cannot_make_a_huge_refusal():
    raw = json.loads(decision())
    raw["payload"].update({f"{'x' * 90}{i}": "y" * 5000 for i in range(500)})
    refused = refusal(json.dumps(raw).encode())
    assert len(refused.errors) == MAX_LISTED
    assert str(refused).endswith(f"; and {500 - MAX_LISTED} more")
    assert len(str(refused)) < 12_000 and len(json.dumps(refused.errors)) < 12_000
