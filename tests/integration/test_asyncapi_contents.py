"""What the AsyncAPI document says, checked against the product: every example is an envelope the
product's decoder takes, every reason the code can file is listed with what it means, every exported
schema names itself."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

from guichet.envelope import decode
from guichet_cli.commands.asyncapi_cmd import document, write_conversations
from guichet_cli.commands.schemas_cmd import export_schemas
from guichet_operations.error_reasons import DESCRIPTIONS, OTHER_REASONS, error_reasons, permanent_reasons
from schemas.catalogue import message_registry
from schemas.dossier import Title

MESSAGES = message_registry()
ROOT = Path(__file__).resolve().parents[2]


def test_every_message_has_a_whole_example_envelope_the_decoder_takes():
    messages = document()["components"]["messages"]
    for type_ in MESSAGES:
        (example,) = messages[type_]["examples"]
        body = example["payload"]
        assert {"message_id", "dossier_id", "sender", "recipient", "sent_at", "payload"} <= set(body), type_
        envelope, message = decode(json.dumps(body), example["headers"], "application/json", messages=MESSAGES)
        assert envelope.type == type_ and str(envelope.message_id) == body["message_id"]


def test_no_example_grants_and_refuses_at_once():
    for type_, message in document()["components"]["messages"].items():
        for example in message.get("examples", []):
            payload = example["payload"]["payload"]
            if payload.get("granted") is True or payload.get("favorable") is True:
                assert payload.get("reason") is None, type_


def test_every_reason_the_code_files_is_listed_with_a_description():
    reasons = error_reasons()
    assert set(permanent_reasons()) <= set(reasons)
    assert set(OTHER_REASONS) <= set(reasons)
    assert all(reasons[r] == DESCRIPTIONS[r] for r in reasons), "each reason has a description of its own"
    # The gates' refusals are plain strings in the code: each must be in the vocabulary.
    refused = set()
    for folder in ("guichet", "services"):
        for path in (ROOT / folder).rglob("*.py"):
            refused |= set(re.findall(r'Refused\(\s*"([a-z_]+)"', path.read_text()))
            refused |= set(re.findall(r'reason="([a-z_]+)"', path.read_text()))
    assert refused and refused <= set(reasons), refused - set(reasons)
    header = document()["components"]["messages"]["failed"]["headers"]["properties"]["x-guichet-error-reason"]
    assert header["enum"] == list(reasons) and header["x-enum-descriptions"] == reasons


def test_every_exported_schema_has_an_id_of_its_own(tmp_path):
    export_schemas(tmp_path)
    ids = [json.loads(p.read_text())["$id"] for p in tmp_path.glob("*.schema.json")]
    assert len(ids) == len(MESSAGES) + 1 and len(set(ids)) == len(ids)
    assert all(i.startswith("urn:guichet:schema:") for i in ids)


def test_docs_conversations_is_up_to_date(tmp_path):
    """docs/conversations.md is what `guichet asyncapi --conversations` writes from the product today."""
    fresh = tmp_path / "conversations.md"
    write_conversations(fresh)
    committed = ROOT / "docs" / "conversations.md"
    assert committed.read_text() == fresh.read_text(), (
        "docs/conversations.md is out of date: run guichet asyncapi --conversations docs/conversations.md"
    )


def test_each_agency_is_told_what_to_send_back_for_each_title():
    doc = document()
    operations = doc["operations"]
    consulat = operations["conversation.salarie_en_mission.consulat.7"]
    assert consulat["messages"] == [{"$ref": "#/channels/consulat/messages/ofii.transmission_consulat"}]
    assert consulat["reply"]["messages"] == [{"$ref": "#/channels/flux/messages/consulat.decision_visa"}]
    assert "consulat.agent.decision_visa" in consulat["description"]
    titles = {op["tags"][0]["name"] for name, op in operations.items() if name.startswith("conversation.")}
    assert titles == set(get_args(Title))
    for name, op in operations.items():
        if "reply" in op:
            for ref in op["reply"]["messages"]:
                assert ref["$ref"].rsplit("/", 1)[1] in doc["channels"]["flux"]["messages"], name
