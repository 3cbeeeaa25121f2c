"""Signatures cover RFC 8785 (JCS) canonical JSON, which the envelope names in `canonical`;
envelopes signed before, in the legacy form, still verify."""

import base64
import json
from datetime import UTC, date, datetime, timedelta

import pytest

from guichet.canonical_json import CanonicalFormError, jcs
from guichet.envelope import Envelope, Sender, decode, wrap
from guichet.trust import BadSignature, KeyDirectory, NotCanonical, Trust, canonical, generate
from schemas.autorisation_travail import DepotAutorisationTravail
from schemas.titre import Recepisse
from tests.conftest import MESSAGES, dossier, scenario

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)
SIRET = "55208131766522"  # the employer of tests.conftest.dossier(): it signs with its own key


def legacy_canonical(envelope: Envelope) -> bytes:
    """The form every signature covered before RFC 8785, as it was written then."""
    data = envelope.model_dump(mode="json", exclude={"signature"})
    del data["canonical"]  # the field did not exist: an old envelope's JSON has no such key
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture
def trust(tmp_path):
    directory = KeyDirectory(tmp_path / "directory.json")
    generate("employeur", tmp_path / "keys", directory, NOW - timedelta(days=30), subject=SIRET)
    generate("prefecture", tmp_path / "keys", directory, NOW - timedelta(days=30))
    directory.save()
    return Trust(KeyDirectory(tmp_path / "directory.json"), tmp_path / "keys")


def filing():
    filed = (
        scenario(dossier(worker={"surname": "Nguyễn", "given_names": "Éloïse"})).dossiers[0].filed("circulaire-2012")
    )
    assert filed.contract.monthly_gross_salary_eur == 5200.0  # a float in Python, as in the schema
    return wrap(
        DepotAutorisationTravail(dossier=filed),
        dossier_id="D-1",
        sender=Sender(agency="employeur", office=SIRET),
        sent_at=NOW,
        facts={"delays": {"ofii_transmission_days": 2.0, "shares": [0.5, 1e21]}},
    )


def test_rfc8785_form_of_an_envelope_writes_a_5200_salary_as_5200(trust):
    signed = trust.sign(filing())
    assert signed.canonical == "rfc8785"
    signed_bytes = canonical(signed)
    # What a connector rebuilds from the JSON it received, minus the signature.
    assert signed_bytes == jcs({k: v for k, v in json.loads(signed.body()).items() if k != "signature"})
    assert b'"monthly_gross_salary_eur":5200,' in signed_bytes and b"5200.0" not in signed_bytes
    assert b'"delays":{"ofii_transmission_days":2,"shares":[0.5,1e+21]}' in signed_bytes
    assert "Éloïse".encode() in signed_bytes and "Nguyễn".encode() in signed_bytes  # UTF-8, not \u escapes
    assert b'"monthly_gross_salary_eur":5200.0' in legacy_canonical(signed)  # what the old form said


def test_rfc8785_numbers_strings_and_key_order_are_those_of_ecmascript():
    assert (
        jcs({"a": 5200.0, "b": 5200.5, "c": -0.0, "d": 1e21, "e": 1e20, "f": 1e-7, "g": 2**53 - 1})
        == b'{"a":5200,"b":5200.5,"c":0,"d":1e+21,"e":100000000000000000000,"f":1e-7,"g":9007199254740991}'
    )
    # RFC 8785 3.2.3: keys sorted by UTF-16 code units, so U+1F600 (D83D DE00) comes before U+FB33.
    assert (
        jcs({"\ufb33": 1, "\U0001f600": 2, "Ørsted": "Éloïse\n"})
        == '{"Ørsted":"Éloïse\\n","\U0001f600":2,"\ufb33":1}'.encode()
    )


@pytest.mark.parametrize(
    "value, where",
    [
        ({"days": [1, float("nan")]}, r"facts\.days\[1\]: nan is not a JSON number"),
        ({"days": float("inf")}, r"facts\.days: inf is not a JSON number"),
        ({"count": 2**53}, r"facts\.count: integer 9007199254740992 is beyond ±\(2\^53-1\)"),
        ({"name": "\ud800"}, r"facts\.name: string is not valid Unicode"),
    ],
    ids=["nan", "infinity", "unsafe_integer", "lone_surrogate"],
)
def test_rfc8785_signing_refuses_what_json_cannot_carry_naming_its_place(trust, value, where):
    recepisse = wrap(
        Recepisse(valid_until=date(2026, 6, 1)),
        dossier_id="D-1",
        sender=Sender(agency="prefecture"),
        sent_at=NOW,
        facts=value,
    )
    with pytest.raises(NotCanonical, match=where):
        trust.sign(recepisse)
    with pytest.raises(CanonicalFormError):
        jcs(value)


def test_rfc8785_a_received_nan_is_refused_as_not_canonical(trust):
    signed = trust.sign(filing())
    body = signed.body().decode().replace('"ofii_transmission_days":2.0', '"ofii_transmission_days":NaN')
    envelope, _ = decode(body, messages=MESSAGES)  # Python's JSON reader accepts NaN; JCS does not
    with pytest.raises(NotCanonical) as refused:
        trust.verify(envelope)
    assert refused.value.reason == "not_canonical"


def test_rfc8785_a_legacy_signed_envelope_still_verifies_and_cannot_change_form(trust):
    envelope = filing()
    key_id = trust.directory.current("employeur", NOW, SIRET).key_id
    unsigned = envelope.model_copy(update={"key_id": key_id, "signature": None})
    old_body = json.loads(unsigned.body())
    del old_body["canonical"]  # as an envelope signed before the change travels
    old_body["signature"] = base64.b64encode(trust.private[key_id].sign(legacy_canonical(unsigned))).decode()
    received = Envelope.model_validate(old_body)
    assert received.canonical is None
    trust.verify(received)

    with pytest.raises(BadSignature):  # tampering is still caught in the legacy form
        trust.verify(received.model_copy(update={"dossier_id": "D-2"}))
    with pytest.raises(BadSignature):  # a legacy signature cannot be passed off as RFC 8785
        trust.verify(received.model_copy(update={"canonical": "rfc8785"}))
    signed = trust.sign(envelope)
    with pytest.raises(BadSignature):  # nor an RFC 8785 one as legacy
        trust.verify(signed.model_copy(update={"canonical": None}))


@pytest.mark.parametrize(
    "record",
    [
        {"seq": 1, "b": "x", "a": None, "z": True, "y": False},
        {"dossier_id": "D-1", "text": "Éloïse Nguyễn \u00e9 \U0001f600 \u2028 \u007f", "n": -(2**53 - 1)},
        {"ctl": '\x00\x01\x08\t\n\x0b\x0c\r\x1f " \\ /', "max": 2**53 - 1, "": "empty key"},
        {"Z": 1, "a": 2, "_": 3, "0": 4, "~": 5},
    ],
)
def test_flat_objects_take_the_fast_form_and_it_is_byte_for_byte_rfc8785(record):
    """The journal's records are flat objects; they are written by the standard library's JSON, which
    must give exactly the RFC 8785 library's bytes: a journal hashed either way verifies either way."""
    import rfc8785

    assert jcs(record) == rfc8785.dumps(record)


@pytest.mark.parametrize("value", [{"f": 5200.0}, {"clé": "non-ASCII key"}, {"nested": {"a": 1}}])
def test_what_the_fast_form_cannot_carry_goes_through_the_library(value):
    import rfc8785

    assert jcs(value) == rfc8785.dumps(value)


@pytest.mark.parametrize("value, place", [({"name": "bad \ud800"}, "name"), ({"big": 2**53}, "big")])
def test_a_flat_object_jcs_cannot_carry_is_refused_naming_its_place(value, place):
    with pytest.raises(CanonicalFormError, match=place):
        jcs(value)
