"""The published signature test vectors (docs/signature-test-vectors.json) are what the code makes,
guichet's own receivers reach every verdict they state, and so does a JavaScript connector (the
Node.js verifier, node:crypto and the `canonicalize` RFC 8785 implementation)."""

import json
from datetime import datetime
from pathlib import Path

import pytest

from guichet.envelope import decode
from guichet.trust import BadSignature, KeyDirectory, Trust, canonical
from guichet_operations.signature_vectors import render
from tests.conftest import MESSAGES

PUBLISHED = Path(__file__).parents[2] / "docs" / "signature-test-vectors.json"
VECTORS = json.loads(PUBLISHED.read_text(encoding="utf-8"))


def test_the_published_vectors_are_what_the_generator_makes():
    assert PUBLISHED.read_text(encoding="utf-8") == render(), (
        "run: python -m guichet_operations.signature_vectors docs/signature-test-vectors.json"
    )


def test_the_vectors_cover_absent_members_plus_zero_and_both_verdicts():
    names = {v["name"]: v for v in VECTORS["vectors"]}
    sparse = json.loads(names["absent-optional-members-plus-zero"]["envelope"])
    assert "causation_id" not in sparse and "deadline" not in sparse and sparse["sent_at"].endswith("+00:00")
    assert {v["verdict"] for v in VECTORS["vectors"]} == {"valid", "bad_signature"}


@pytest.fixture
def directory(tmp_path):
    path = tmp_path / "directory.json"
    path.write_text(json.dumps(VECTORS["key_directory"]))
    return path


@pytest.mark.parametrize("vector", VECTORS["vectors"], ids=lambda v: v["name"])
def test_guichet_reaches_every_published_verdict(vector, directory):
    sent = vector["envelope"].encode()
    envelope, _ = decode(sent, messages=MESSAGES)
    assert canonical(envelope, sent).decode() == vector["canonical"]
    receiver = Trust(KeyDirectory(directory), None)
    now = datetime.fromisoformat(VECTORS["verified_at"])
    if vector["verdict"] == "valid":
        receiver.verify(envelope, now=now, received=sent)
    else:
        with pytest.raises(BadSignature):
            receiver.verify(envelope, now=now, received=sent)


def test_a_javascript_connector_reaches_every_published_verdict(directory, tmp_path, node_verify):
    files = []
    for vector in VECTORS["vectors"]:
        files.append(tmp_path / f"{vector['name']}.json")
        files[-1].write_text(vector["envelope"], encoding="utf-8")
    _, verdicts = node_verify(directory, files)
    for vector in VECTORS["vectors"]:
        verdict = verdicts[f"{vector['name']}.json"]
        assert verdict["canonical"] == vector["canonical"], vector["name"]
        assert ("valid" if verdict["ok"] else verdict["reason"]) == vector["verdict"], vector["name"]
