"""The envelope codec: what can never succeed is refused with its reason, before any handler."""

import itertools
import json
import uuid
from datetime import datetime
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from guichet.envelope import (
    Envelope,
    InvalidPayload,
    PermanentError,
    Sender,
    UndecodableMessage,
    UnknownMessageType,
    UnknownSender,
    UnsupportedVersion,
    WrongContentType,
    decode,
    wrap,
)
from guichet.message import MessageRegistry
from guichet.timeutil import PARIS
from schemas.base import Message
from schemas.remise import RemiseTitre
from tests.conftest import MESSAGES


def envelope_dict(**changes) -> dict:
    env = wrap(
        RemiseTitre(card_number="7800000001"),
        dossier_id="D-1",
        sender=Sender(agency="ofii"),
        sent_at=datetime(2026, 1, 5, 9, tzinfo=PARIS),
    )
    raw = json.loads(env.body())
    raw.update(changes)
    return raw


def test_round_trip_keeps_type_version_and_payload():
    envelope, message = decode(
        json.dumps(envelope_dict()).encode(), {"type": "ofii.remise_titre", "version": 1}, messages=MESSAGES
    )
    assert envelope.type == "ofii.remise_titre" and envelope.dossier_id == "D-1"
    assert message == RemiseTitre(card_number="7800000001")


@pytest.mark.parametrize(
    "body,headers,content_type,error",
    [
        (b"\xff\xfe not json", None, "application/json", UndecodableMessage),
        (b"[1, 2]", None, "application/json", UndecodableMessage),
        (json.dumps(envelope_dict()).encode(), None, "text/plain", WrongContentType),
        (json.dumps(envelope_dict(type="ofii.unknown")).encode(), None, "application/json", UnknownMessageType),
        (json.dumps(envelope_dict(version=9)).encode(), None, "application/json", UnsupportedVersion),
        (json.dumps(envelope_dict(version=1.0)).encode(), None, "application/json", UnsupportedVersion),
        (json.dumps(envelope_dict(version="1")).encode(), None, "application/json", UnsupportedVersion),
        (json.dumps(envelope_dict(version=True)).encode(), None, "application/json", UnsupportedVersion),
        (
            json.dumps(envelope_dict()).encode(),
            {"type": "ofii.remise_titre", "version": 2},
            "application/json",
            UnsupportedVersion,
        ),
        (json.dumps(envelope_dict(payload={"card_number": 12})).encode(), None, "application/json", InvalidPayload),
        (json.dumps(envelope_dict(sender={"agency": "smoe"})).encode(), None, "application/json", UnknownSender),
        (json.dumps(envelope_dict(recipient="consulat")).encode(), None, "application/json", InvalidPayload),
        (json.dumps(envelope_dict(message_id="not-a-uuid")).encode(), None, "application/json", InvalidPayload),
    ],
)
def test_messages_that_can_never_succeed_are_refused_with_their_reason(body, headers, content_type, error):
    with pytest.raises(error) as caught:
        decode(body, headers, content_type, messages=MESSAGES)
    assert caught.value.reason != "permanent" and str(caught.value)


def test_invalid_payload_names_the_field():
    with pytest.raises(InvalidPayload, match=r"payload\.card_number"):
        decode(json.dumps(envelope_dict(payload={})).encode(), messages=MESSAGES)


def test_an_older_version_is_upcast_before_validation():
    class Exemple(Message):
        TYPE, VERSION = "prefecture.exemple_versionne", 2
        SENDER, RECIPIENT = "prefecture", "ofii"
        numero: str

        @staticmethod
        def upcast_v1_v2(payload: dict) -> dict:
            payload["numero"] = payload.pop("number")
            return payload

    raw = envelope_dict(
        type="prefecture.exemple_versionne",
        version=1,
        sender={"agency": "prefecture"},
        recipient="ofii",
        payload={"number": "42"},
    )
    _, message = decode(json.dumps(raw).encode(), messages=MessageRegistry([Exemple]))
    assert message == Exemple(numero="42")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_are_refused_never_crash_the_decoder(body):
    with pytest.raises(PermanentError):
        decode(body, messages=MESSAGES)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    payload=json_values,
    type_=st.sampled_from(["ofii.remise_titre", "prefecture.agent.titre_produit", "employeur.depot_titre", "x"]),
    version=st.one_of(st.integers(-2, 3), st.text(max_size=3)),
)
def test_random_payloads_either_decode_or_are_refused(payload, type_, version):
    raw = envelope_dict(type=type_, version=version, payload=payload)
    try:
        envelope, message = decode(json.dumps(raw).encode(), messages=MESSAGES)
    except PermanentError:
        return
    assert isinstance(message, Message) and envelope.type == type_


def _outcome(body: bytes):
    try:
        envelope, message = decode(body, messages=MESSAGES)
    except PermanentError as exc:
        return type(exc), str(exc)
    return envelope, message


@settings(max_examples=300, deadline=None)
@given(
    payload=json_values,
    type_=st.sampled_from(["ofii.remise_titre", "employeur.depot_titre", "x"]),
    version=st.one_of(st.integers(-2, 3), st.text(max_size=3), st.floats(allow_nan=False), st.booleans(), st.none()),
    sender=st.sampled_from([{"agency": "ofii"}, {"agency": "employeur"}, {"agency": ""}, {}, "ofii"]),
    message_id=st.sampled_from([str(uuid.UUID(int=7)), "not-a-uuid", 7]),
)
def test_the_one_pass_reading_accepts_and_refuses_what_the_step_by_step_reading_does(
    payload, type_, version, sender, message_id
):
    """A body is first parsed and validated in one pass; one it refuses is read again step by step.
    Either way the outcome is the step-by-step reading's: same envelope, or same refusal."""
    body = json.dumps(
        envelope_dict(type=type_, version=version, payload=payload, sender=sender, message_id=message_id)
    ).encode()
    one_pass = _outcome(body)
    with patch.object(Envelope, "model_validate_json", side_effect=ValueError("step by step")):
        step_by_step = _outcome(body)
    assert one_pass == step_by_step


def test_message_ids_are_version_7_uuids_that_sort_in_the_order_they_were_made(monkeypatch):
    """Time-ordered ids (RFC 9562, version 7): the registers' indexes on message ids grow at their end."""
    import guichet.envelope as codec
    from guichet.envelope import new_message_id

    start_ms = 1_767_600_000_000
    ticks = ((start_ms + i) * 1_000_000 for i in itertools.count())
    monkeypatch.setattr(codec.time, "time_ns", lambda: next(ticks))
    ids = [new_message_id() for _ in range(200)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids[0].int >> 80 == start_ms
    assert [str(i) for i in ids] == sorted(str(i) for i in ids) and len(set(ids)) == 200
    made = wrap(
        RemiseTitre(card_number="7800000001"),
        dossier_id="D-1",
        sender=Sender(agency="ofii"),
        sent_at=datetime(2026, 1, 5, 9, tzinfo=PARIS),
    )
    assert made.message_id.version == 7
