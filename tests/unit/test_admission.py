"""What a delivery must show before its body is read (guichet/admission.py), and the bounds the
envelope codec puts on what it reads: the receiver checks what the broker told it, not what the
sender wrote (DESIGN.md, "Trust between separate administrations")."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from guichet.admission import MAX_BODY_BYTES, AccountPlan, Admission, account_prefix
from guichet.envelope import MAX_DEPTH, MAX_TEXT, PermanentError, Sender, decode, wrap
from guichet.timeutil import PARIS
from schemas.remise import RemiseTitre
from tests.conftest import MESSAGES

START = datetime(2026, 1, 5, 9, tzinfo=PARIS)
PORTAL = AccountPlan(roles={"travailleur": "employeur"})
HEADERS = {"type": "consulat.decision_visa", "sender": "consulat"}


def refusal(
    admission: Admission, body=b"{}", headers=None, routing_key="ofii.consulat.decision_visa", user_id=None
) -> str | None:
    try:
        admission.check(body, HEADERS if headers is None else headers, routing_key, user_id)
    except PermanentError as exc:
        return exc.reason
    return None


def ofii(**changes) -> Admission:
    base = {
        "agency": "ofii",
        "account_prefix": "p-",
        "plan": PORTAL,
        "relay": "ofii",
        "signed": False,
        "writable": ("ofii", "smoe", "consulat", "prefecture"),
    }
    return Admission(**{**base, **changes})


def test_a_body_above_the_limit_is_refused_before_it_is_read_with_the_limit_named():
    admission = ofii()
    with pytest.raises(PermanentError, match=f"limit of {MAX_BODY_BYTES} bytes") as caught:
        admission.check(b"x" * (MAX_BODY_BYTES + 1), HEADERS, "ofii.consulat.decision_visa", "p-consulat")
    assert caught.value.reason == "too_large"
    assert refusal(admission, b"x" * MAX_BODY_BYTES, user_id="p-consulat") is None


@pytest.mark.parametrize("header", ["CC", "BCC", "cc"])
def test_cc_and_bcc_headers_are_refused_since_the_broker_does_not_check_them_against_permissions(header):
    """RabbitMQ 3.x routes CC/BCC keys without checking the publisher's topic permissions."""
    headers = {**HEADERS, header: ["prefecture.ofii.transmission_prefecture"]}
    assert refusal(ofii(), headers=headers, user_id="p-consulat") == "cc_refused"


@pytest.mark.parametrize(
    "routing_key",
    [
        "prefecture.ofii.transmission_prefecture",  # not addressed to the OFII
        "ofii.smoe.decision_autorisation_travail",  # another type than the header
        "ofii.anything",
    ],
)
def test_a_delivery_not_under_its_own_key_addressed_to_this_agency_is_misaddressed(routing_key):
    assert refusal(ofii(), routing_key=routing_key, user_id="p-consulat") == "misaddressed"


def test_without_a_type_header_the_key_is_held_to_the_body_s_own_type():
    body = json.dumps({"type": "consulat.decision_visa"}).encode()
    headers = {"sender": "consulat"}
    assert refusal(ofii(), body, headers, "ofii.smoe.decision_autorisation_travail", "p-consulat") == "misaddressed"
    assert refusal(ofii(), body, headers, "ofii.consulat.decision_visa", "p-consulat") is None
    # No type to read: the codec refuses the body for what is wrong with it.
    assert refusal(ofii(account_prefix=None), b"\x00 not json", {}, "ofii.anything") is None


def test_the_publishing_account_must_speak_for_the_sender():
    admission = ofii()
    assert refusal(admission, user_id="p-consulat") is None
    assert refusal(admission, user_id=None) == "wrong_account"
    assert refusal(admission, user_id="p-smoe") == "wrong_account"
    assert refusal(admission, user_id="q-consulat") == "wrong_account", "another deployment's account"
    assert refusal(admission, headers={"type": "consulat.decision_visa"}, user_id="p-consulat") == "wrong_account"
    # The employers' portal speaks for the employer and for the worker.
    worker = {"type": "travailleur.presentation_convocation", "sender": "travailleur"}
    assert (
        refusal(
            admission, headers=worker, routing_key="ofii.travailleur.presentation_convocation", user_id="p-employeur"
        )
        is None
    )
    # Its own retries come back under its own account.
    assert refusal(admission, user_id="p-ofii") is None


def test_a_relay_or_a_replay_is_accepted_only_when_signatures_say_who_sent_it():
    smoe = Admission("smoe", "p-", PORTAL, relay="ofii", signed=False, writable=("smoe",))
    late = {"type": "ofii.transmission_smoe", "sender": "consulat", "x-guichet-late": True}
    replay = {**HEADERS, "x-guichet-replays": 1}
    key = "smoe.ofii.transmission_smoe"
    assert refusal(smoe, headers=late, routing_key=key, user_id="p-ofii") == "wrong_account"
    assert (
        refusal(smoe, headers={**late, "type": "ofii.transmission_smoe"}, routing_key=key, user_id="p-operateur")
        == "wrong_account"
    )
    signed = Admission("smoe", "p-", PORTAL, relay="ofii", signed=True, writable=("smoe",))
    assert refusal(signed, headers=late, routing_key=key, user_id="p-ofii") is None
    assert (
        refusal(signed, headers={**replay, "type": "ofii.transmission_smoe"}, routing_key=key, user_id="p-operateur")
        is None
    )
    assert (
        refusal(signed, headers={**HEADERS, "type": "ofii.transmission_smoe"}, routing_key=key, user_id="p-operateur")
        == "wrong_account"
    ), "an operator's message that is not a replay"


def test_without_an_agency_account_there_is_no_account_to_check():
    assert account_prefix("ofii", "amqp://p-ofii:secret@host:5672/vh") == "p-"
    assert account_prefix("ofii", "amqp://ofii:secret@a:5672/;amqp://ofii:secret@b:5672/") == ""
    assert account_prefix("ofii", "amqp://guest:guest@127.0.0.1:5672//") is None
    assert account_prefix("ofii", "memory://") is None
    assert refusal(ofii(account_prefix=None), user_id=None) is None


def test_a_refused_delivery_is_filed_under_a_key_the_agency_may_write():
    prefecture = Admission("prefecture", "p-", PORTAL, relay="ofii", writable=("prefecture",))
    assert prefecture.filing_key("prefecture.ofii.transmission_prefecture") == "prefecture.ofii.transmission_prefecture"
    assert prefecture.filing_key("ofii.employeur.depot_autorisation_travail") == "prefecture.quarantaine"
    assert prefecture.filing_key("prefecturex.y") == "prefecture.quarantaine"
    assert ofii().filing_key("smoe.ofii.transmission_smoe") == "smoe.ofii.transmission_smoe", "the relay files for all"


def envelope_body(**changes) -> bytes:
    raw = json.loads(
        wrap(RemiseTitre(card_number="1"), dossier_id="D-1", sender=Sender(agency="ofii"), sent_at=START).body()
    )
    raw.update(changes)
    return json.dumps(raw).encode()


def reason(body: bytes, headers=None) -> str:
    with pytest.raises(PermanentError) as caught:
        decode(body, headers, messages=MESSAGES)
    return f"{caught.value.reason}: {caught.value}"


@pytest.mark.parametrize(
    "dossier_id",
    [
        "../../etc/passwd",
        "D-1/../x",
        "D'1",
        "D-1; DROP TABLE dossiers",
        "<svg onload=alert(1)>",
        'D-1\n{"level":"info"}',
        "",
        "x" * 101,
    ],
)
def test_identifiers_follow_a_strict_pattern(dossier_id):
    assert reason(envelope_body(dossier_id=dossier_id)).startswith("invalid_payload: envelope: dossier_id")


def test_key_ids_and_parties_follow_a_strict_pattern():
    assert "key_id" in reason(envelope_body(key_id="k" * 100_000))
    assert "sender.agency" in reason(envelope_body(sender={"agency": "OFII\n"}))


def test_headers_must_say_what_the_body_says():
    body = envelope_body()
    assert decode(
        body, {"type": "ofii.remise_titre", "dossier_id": "D-1", "sender": "ofii", "version": 1}, messages=MESSAGES
    )
    assert reason(body, {"dossier_id": "D-2"}).startswith("header_mismatch: header dossier_id")
    assert reason(body, {"sender": "consulat"}).startswith("header_mismatch: header sender")


def test_text_and_nesting_are_bounded_with_the_limit_named():
    assert f"limit of {MAX_TEXT}" in reason(envelope_body(facts={"note": "x" * (MAX_TEXT + 1)}))
    deep: dict = {}
    node = deep
    for _ in range(MAX_DEPTH + 1):
        node["n"] = {}
        node = node["n"]
    assert f"deeper than {MAX_DEPTH}" in reason(envelope_body(facts=deep))


def test_a_hundred_thousand_levels_of_nesting_are_refused_as_out_of_bounds_not_as_a_handler_fault():
    body = envelope_body()
    hostile = body[:-1] + b', "facts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert reason(hostile).startswith("out_of_bounds")
