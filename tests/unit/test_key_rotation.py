"""Keys that can be withdrawn now: the key directory read again when it changes (within
RELOAD_SECONDS, or at once after SIGHUP), a withdrawn key refused on the receiver's clock whatever
the message's own date, one key per employer, every refusal logged; the `keys` commands replace
the directory whole."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta

import pytest
import structlog
from structlog.testing import capture_logs

from guichet import key_directory, logs
from guichet.agency import Agency
from guichet.clock import SystemClock
from guichet.envelope import Sender, wrap
from guichet.key_directory import RELOAD_SECONDS, KeyDirectory
from guichet.register import Register
from guichet.trust import (
    ExpiredKey,
    KeyDirectoryUnreadable,
    Trust,
    Unsigned,
    WrongSenderKey,
    generate,
)
from guichet_cli.main import main
from schemas.titre import DepotTitre, Recepisse
from services.bootstrap import compose
from tests.conftest import DIRECTORY
from tests.unit.test_signing import sign_with

NOW = datetime.now(UTC).replace(microsecond=0)
SIRET_A, SIRET_B = "55208131766522", "73282932000074"


class Monotonic:
    """time.monotonic under the test's hand: the reload delay without waiting for it."""

    def __init__(self):
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


@pytest.fixture
def monotonic(monkeypatch):
    clock = Monotonic()
    monkeypatch.setattr(key_directory.time, "monotonic", clock)
    return clock


@pytest.fixture
def keys(tmp_path):
    directory = KeyDirectory(tmp_path / "directory.json")
    generate("prefecture", tmp_path / "prefecture", directory, NOW - timedelta(days=30))
    for siret in (SIRET_A, SIRET_B):
        generate("employeur", tmp_path / "portal", directory, NOW - timedelta(days=30), subject=siret)
    directory.save()
    return tmp_path


def recepisse(sent_at=NOW):
    return wrap(
        Recepisse(valid_until=date(2027, 6, 1)), dossier_id="D-1", sender=Sender(agency="prefecture"), sent_at=sent_at
    )


def depot(office: str, sent_at=NOW):
    return wrap(
        DepotTitre(arrived_on=date(2026, 2, 20), documents=["passeport"]),
        dossier_id="D-1",
        sender=Sender(agency="employeur", office=office),
        sent_at=sent_at,
    )


def cli(*args: str) -> int:
    return main(["--log-level", "error", "keys", *args])


def prefecture_key(keys) -> str:
    return KeyDirectory(keys / "directory.json").current("prefecture", NOW).key_id


def test_a_key_revoked_while_the_receiver_runs_is_refused_within_the_reload_delay(keys, monotonic):
    sender = Trust(KeyDirectory(keys / "directory.json"), keys / "prefecture")
    receiver = Trust(KeyDirectory(keys / "directory.json"), None)
    signed = sender.sign(recepisse())
    receiver.verify(signed)
    assert cli("revoke", "prefecture", signed.key_id, "--directory", str(keys / "directory.json")) == 0

    monotonic.value += RELOAD_SECONDS / 2  # not looked at yet: the delay is bounded, not zero
    receiver.verify(signed)
    monotonic.value += RELOAD_SECONDS / 2
    with pytest.raises(ExpiredKey, match="withdrawn"):
        receiver.verify(signed)


def test_sighup_makes_the_next_message_read_the_directory_at_once(keys, monotonic):
    receiver = Trust(KeyDirectory(keys / "directory.json"), None)
    signed = Trust(KeyDirectory(keys / "directory.json"), keys / "prefecture").sign(recepisse())
    receiver.verify(signed)
    cli("revoke", "prefecture", signed.key_id, "--directory", str(keys / "directory.json"))
    receiver.directory.reload_soon()  # what the service's SIGHUP handler calls
    with pytest.raises(ExpiredKey):
        receiver.verify(signed)


def test_validity_is_judged_on_the_receivers_clock_not_on_the_senders_date(keys):
    signer = Trust(KeyDirectory(keys / "directory.json"), keys / "prefecture")
    backdated = signer.sign(recepisse(sent_at=NOW - timedelta(days=1)))  # dated before the revocation
    revoked_at = NOW + timedelta(hours=1)
    directory = KeyDirectory(keys / "directory.json")
    directory.withdraw(backdated.key_id, revoked_at)
    directory.save()
    receiver = Trust(KeyDirectory(keys / "directory.json"), None)
    receiver.verify(backdated, now=revoked_at - timedelta(seconds=1))  # before: accepted
    with pytest.raises(ExpiredKey, match="this receiver's clock"):
        receiver.verify(backdated, now=revoked_at)  # from then on: refused
    with pytest.raises(ExpiredKey, match="not valid at"):  # a date outside the key's validity
        receiver.verify(sign_with(signer, backdated.key_id, recepisse(sent_at=NOW - timedelta(days=40))), now=NOW)


def test_without_a_clock_given_the_receiver_judges_at_the_current_time(keys):
    signed = Trust(KeyDirectory(keys / "directory.json"), keys / "prefecture").sign(recepisse())
    cli(
        "rotate",
        "prefecture",
        "--keys-dir",
        str(keys / "prefecture"),
        "--directory",
        str(keys / "directory.json"),
        "--overlap-hours",
        "0",
    )
    with pytest.raises(ExpiredKey):
        Trust(KeyDirectory(keys / "directory.json"), None).verify(signed)


def test_a_key_rotated_in_while_the_sender_runs_is_loaded_and_used(keys, monotonic):
    sender = Trust(KeyDirectory(keys / "directory.json"), keys / "prefecture")
    old = sender.sign(recepisse()).key_id
    cli(
        "rotate",
        "prefecture",
        "--keys-dir",
        str(keys / "prefecture"),
        "--directory",
        str(keys / "directory.json"),
        "--overlap-hours",
        "1",
    )
    monotonic.value += RELOAD_SECONDS
    new = sender.sign(recepisse(sent_at=datetime.now(UTC)))
    assert new.key_id != old and new.key_id in sender.private
    Trust(KeyDirectory(keys / "directory.json"), None).verify(new)


def test_each_employer_signs_with_its_own_key_and_not_with_another_ones(keys):
    portal = Trust(KeyDirectory(keys / "directory.json"), keys / "portal")
    receiver = Trust(KeyDirectory(keys / "directory.json"), None)
    signed_a = portal.sign(depot(SIRET_A))
    assert KeyDirectory(keys / "directory.json").get(signed_a.key_id).subject == SIRET_A
    receiver.verify(signed_a)
    # Employer B's envelope signed with employer A's key: refused.
    key_a = signed_a.key_id
    with pytest.raises(WrongSenderKey, match="not a key of the employeur this envelope names"):
        receiver.verify(sign_with(portal, key_a, depot(SIRET_B)))
    with pytest.raises(RuntimeError, match="sender.office"):
        portal.sign(depot(None))


def test_a_shared_employer_key_is_refused(keys):
    directory = KeyDirectory(keys / "directory.json")
    shared = generate("employeur", keys / "shared", directory, NOW - timedelta(days=1))
    directory.save()
    envelope = sign_with(Trust(KeyDirectory(keys / "directory.json"), keys / "shared"), shared.key_id, depot(SIRET_A))
    with pytest.raises(WrongSenderKey, match="shared employeur key"):
        Trust(KeyDirectory(keys / "directory.json"), None).verify(envelope)


def test_an_employer_key_needs_its_siret_and_only_an_employer_key_has_one(keys, capsys):
    directory = str(keys / "directory.json")
    assert cli("generate", "employeur", "--keys-dir", str(keys / "portal"), "--directory", directory) == 2
    assert "--subject SIRET" in capsys.readouterr().err
    assert (
        cli("generate", "smoe", "--subject", SIRET_A, "--keys-dir", str(keys / "smoe"), "--directory", directory) == 2
    )
    assert (
        cli(
            "generate",
            "employeur",
            "--subject",
            "12345678900017",
            "--keys-dir",
            str(keys / "portal"),
            "--directory",
            directory,
        )
        == 0
    )


def test_every_refused_signature_is_logged_with_its_reason_and_no_personal_data(keys):
    receiver = Trust(KeyDirectory(keys / "directory.json"), None)
    saved = structlog.get_config()
    logs.configure("info")
    try:
        with capture_logs() as logged, pytest.raises(Unsigned):
            receiver.verify(recepisse())
    finally:
        structlog.configure(**saved)
    assert logged[-1]["event"] == "signature refused" and logged[-1]["log_level"] == "warning"
    assert logged[-1]["reason"] == "unsigned" and logged[-1]["sender"] == "prefecture"
    assert "payload" not in logged[-1]


def test_an_unreadable_directory_refuses_everything_until_it_is_repaired(keys, monotonic):
    path = keys / "directory.json"
    receiver = Trust(KeyDirectory(path), None)
    signed = Trust(KeyDirectory(path), keys / "prefecture").sign(recepisse())
    good = path.read_text()
    path.write_text('{"keys": [')  # an operator's broken edit, not the keys command
    monotonic.value += RELOAD_SECONDS
    with pytest.raises(KeyDirectoryUnreadable):
        receiver.verify(signed)
    path.write_text(good + "\n")
    monotonic.value += RELOAD_SECONDS
    receiver.verify(signed)


def test_the_keys_command_replaces_the_directory_whole(keys):
    path = keys / "directory.json"
    before = os.stat(path).st_ino
    assert cli("revoke", "prefecture", prefecture_key(keys), "--directory", str(path)) == 0
    assert os.stat(path).st_ino != before, "a new file renamed over the old one, never rewritten in place"
    assert sorted(p.name for p in keys.iterdir() if p.name.endswith(".tmp")) == []
    entries = json.loads(path.read_text())["keys"]
    assert [e["valid_until"] is not None for e in entries if e["party"] == "prefecture"] == [True]
    assert {e.get("subject") for e in entries if e["party"] == "employeur"} == {SIRET_A, SIRET_B}


def test_revoking_an_unknown_key_or_another_partys_key_is_refused(keys):
    directory = str(keys / "directory.json")
    assert cli("revoke", "prefecture", "no-such-key", "--directory", directory) == 2
    assert cli("revoke", "smoe", prefecture_key(keys), "--directory", directory) == 2


def test_keys_init_gives_every_agency_the_worker_and_each_employer_a_key_once(tmp_path, capsys):
    args = (
        "init",
        "--keys-root",
        str(tmp_path / "keys"),
        "--directory",
        str(tmp_path / "public" / "directory.json"),
        "--employers",
        f"{SIRET_A},{SIRET_B}",
    )
    assert cli(*args) == 0
    first = json.loads((tmp_path / "public" / "directory.json").read_text())["keys"]
    assert sorted((e["party"], e.get("subject")) for e in first) == sorted(
        [(a, None) for a in ("ofii", "smoe", "consulat", "prefecture")]
        + [("travailleur", None)]
        + [("employeur", SIRET_A), ("employeur", SIRET_B)]
    )
    assert {p.name for p in (tmp_path / "keys").iterdir()} == {"ofii", "smoe", "consulat", "prefecture", "portal"}
    assert len(list((tmp_path / "keys" / "portal").glob("*.pem"))) == 3
    assert cli(*args) == 0  # again: nothing changes
    assert json.loads((tmp_path / "public" / "directory.json").read_text())["keys"] == first
    assert (
        cli(
            "init",
            "--keys-root",
            str(tmp_path / "keys"),
            "--directory",
            str(tmp_path / "d.json"),
            "--employers",
            "not-a-siret",
        )
        == 2
    )


def test_every_refused_signature_is_journaled_once_and_changes_no_dossier(keys):
    """The register keeps the evidence of a message its receiver could not trust, without its dossier."""
    register = Register(str(keys / "ofii.sqlite3"), "ofii")
    try:
        ofii = Agency(
            compose(DIRECTORY).agencies["ofii"],
            register,
            SystemClock(),
            trust=Trust(KeyDirectory(keys / "directory.json"), None),
        )
        unsigned = recepisse()
        for _ in range(2):  # a redelivery is not journaled twice
            outcome = ofii.process(unsigned.body())
            assert (outcome.status, outcome.reason) == ("rejected", "unsigned")
        assert [r["direction"] for r in register.journal_of(unsigned.dossier_id)] == ["in_signature_refused"]
        assert register.state(unsigned.dossier_id) is None
        assert register.verify_journal().intact
    finally:
        register.close()
