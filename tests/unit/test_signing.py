"""Trust: Ed25519 signatures checked against the shared key directory, key rotation."""

import base64
from datetime import UTC, date, datetime, timedelta

import pytest

from guichet.envelope import Sender, wrap
from guichet.trust import (
    BadSignature,
    ExpiredKey,
    KeyDirectory,
    Trust,
    Unsigned,
    WrongSenderKey,
    canonical,
    generate,
)
from guichet_cli.main import main
from schemas.titre import Recepisse

NOW = datetime(2026, 3, 1, 9, tzinfo=UTC)


def recepisse(sent_at=NOW):
    return wrap(
        Recepisse(valid_until=date(2026, 6, 1)), dossier_id="D-1", sender=Sender(agency="prefecture"), sent_at=sent_at
    )


@pytest.fixture
def keys(tmp_path):
    directory = KeyDirectory(tmp_path / "directory.json")
    for party in ("prefecture", "smoe"):
        generate(party, tmp_path / party, directory, NOW - timedelta(days=30))
    directory.save()
    return tmp_path


def trust(keys, party):
    return Trust(KeyDirectory(keys / "directory.json"), keys / party)


def sign_with(signer: Trust, key_id: str, envelope):
    """Sign with a chosen key, as a forger or an old key would."""
    unsigned = envelope.model_copy(update={"canonical": "rfc8785", "key_id": key_id, "signature": None})
    return unsigned.model_copy(
        update={"signature": base64.b64encode(signer.private[key_id].sign(canonical(unsigned))).decode()}
    )


def test_a_signed_envelope_verifies_and_any_change_breaks_it(keys):
    signed = trust(keys, "prefecture").sign(recepisse())
    receiver = trust(keys, "ofii")
    receiver.verify(signed)
    altered = signed.model_copy(update={"payload": {"valid_until": "2027-06-01"}})
    with pytest.raises(BadSignature):
        receiver.verify(altered)
    with pytest.raises(BadSignature):
        receiver.verify(signed.model_copy(update={"dossier_id": "D-2"}))


def test_unsigned_and_forged_envelopes_are_refused(keys):
    receiver = trust(keys, "ofii")
    with pytest.raises(Unsigned):
        receiver.verify(recepisse())
    # Right sender name, wrong key: the SMOE signs a message that claims to come from the préfecture.
    smoe_key = KeyDirectory(keys / "directory.json").current("smoe", NOW).key_id
    forged = sign_with(trust(keys, "smoe"), smoe_key, recepisse())
    with pytest.raises(WrongSenderKey):
        receiver.verify(forged)


def test_a_key_is_valid_only_within_its_dates_and_rotation_hands_over(keys):
    directory_file = str(keys / "directory.json")
    assert (
        main(
            [
                "keys",
                "rotate",
                "prefecture",
                "--keys-dir",
                str(keys / "prefecture"),
                "--directory",
                directory_file,
                "--overlap-hours",
                "1",
            ]
        )
        == 0
    )
    directory = KeyDirectory(directory_file)
    old, new = [e for e in directory.entries if e.party == "prefecture"]
    assert old.valid_until is not None and new.valid_from >= old.valid_from
    now = datetime.now(UTC)
    signed = trust(keys, "prefecture").sign(recepisse(sent_at=now))
    assert signed.key_id == new.key_id
    trust(keys, "ofii").verify(signed)
    old_signed = sign_with(
        trust(keys, "prefecture"), old.key_id, recepisse(sent_at=old.valid_until + timedelta(minutes=1))
    )
    with pytest.raises(ExpiredKey):
        trust(keys, "ofii").verify(old_signed)


def test_a_private_key_that_is_not_ed25519_is_refused_when_loaded(keys):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed448 import Ed448PrivateKey

    from guichet.configuration import ConfigurationError

    stranger = Ed448PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (keys / "prefecture" / "prefecture-ed448.pem").write_bytes(stranger)
    with pytest.raises(ConfigurationError, match="not an Ed25519 private key"):
        trust(keys, "prefecture")
