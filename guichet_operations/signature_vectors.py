"""The published signature test vectors (docs/signature-test-vectors.json): envelopes as a signer
sends them, the RFC 8785 bytes a verifier must rebuild from each, the key, the signature and the
verdict guichet's receivers reach. A connector in another language checks its canonicalisation and
its Ed25519 verification against them before it meets the bus.

The key is a test key, derived from a public phrase: anyone can sign with it, so no key directory
outside these tests may ever hold it. Ed25519 signatures are deterministic, so the file is the
same at every run:

    python -m guichet_operations.signature_vectors docs/signature-test-vectors.json
"""

from __future__ import annotations

import base64
import hashlib
import json
import sys
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from guichet.envelope import Envelope, Sender, wrap
from guichet.key_directory import KeyEntry
from schemas.titre import Recepisse

PHRASE = b"guichet signature test vectors: a public test key, never to be trusted"
KEY_ID = "prefecture-test-vectors-20260101T000000"
VALID_FROM = datetime(2026, 1, 1, tzinfo=UTC)
SENT_AT = datetime(2026, 3, 2, 8, 30, tzinfo=UTC)
VERIFIED_AT = "2026-03-02T09:00:00+00:00"  # the receiver's clock at which the verdicts hold


def test_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(hashlib.sha256(PHRASE).digest())


def _raw_public(key: Ed25519PrivateKey) -> str:
    raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def _envelope(number: int, facts: dict[str, Any] | None = None) -> Envelope:
    return wrap(
        Recepisse(valid_until=date(2026, 7, 23)),
        dossier_id=f"TV-{number}",
        sender=Sender(agency="prefecture", office="Préfecture des Hauts-de-Seine"),
        sent_at=SENT_AT,
        facts=facts,
        message_id=uuid.UUID(f"01900000-0000-7000-8000-{number:012d}"),
    )


def _signed(built: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """`built` signed as any RFC 8785 signer does: canonical bytes of everything but `signature`."""
    unsigned = {k: v for k, v in built.items() if k != "signature"}
    unsigned.update(canonical="rfc8785", key_id=KEY_ID)
    return {**unsigned, "signature": base64.b64encode(key.sign(rfc8785.dumps(unsigned))).decode()}


def _vector(name: str, description: str, sent: str, verdict: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    received = json.loads(sent)
    canonical = rfc8785.dumps({k: v for k, v in received.items() if k != "signature"}).decode()
    return {
        "name": name,
        "description": description,
        "envelope": sent,
        "canonical": canonical,
        "key_id": KEY_ID,
        "public_key": _raw_public(key),
        "signature": received["signature"],
        "verdict": verdict,
    }


def vectors() -> dict[str, Any]:
    key = test_key()
    as_python = json.loads(_envelope(1).body())  # every optional member present, null when unset
    sparse = {k: v for k, v in json.loads(_envelope(2).body()).items() if v is not None}
    sparse["sent_at"] = "2026-03-02T08:30:00+00:00"
    reordered = {k: v for k, v in json.loads(_envelope(3, {"note": "Éloïse Nguyễn", "days": 2.0}).body()).items()}
    reordered["sent_at"] = "2026-03-02T08:30:00.200Z"
    cases: list[tuple[str, str, dict[str, Any], Callable[[dict[str, Any]], str], str]] = [
        (
            "nulls-as-python-writes",
            "Every optional member present and null, sent_at in Paris time, compact JSON",
            as_python,
            lambda e: json.dumps(e, ensure_ascii=False, separators=(",", ":")),
            "valid",
        ),
        (
            "absent-optional-members-plus-zero",
            "Optional members absent (not null), sent_at in UTC written +00:00",
            sparse,
            lambda e: json.dumps(e, ensure_ascii=False),
            "valid",
        ),
        (
            "milliseconds-z-reordered-whitespace-numbers",
            "sent_at with milliseconds and Z, members in reverse order, indented, non-ASCII text "
            "written escaped, a number written 2.0 (canonical: 2)",
            reordered,
            lambda e: json.dumps(dict(reversed(list(e.items()))), indent=4),
            "valid",
        ),
    ]
    out = []
    for name, description, built, write, verdict in cases:
        out.append(_vector(name, description, write(_signed(built, key)), verdict, key))
    changed = _signed(sparse, key)
    changed["payload"] = {"valid_until": "2026-07-24"}
    out.append(
        _vector(
            "payload-changed-after-signing",
            "The absent-optional-members envelope with one byte of its payload changed after signing",
            json.dumps(changed, ensure_ascii=False),
            "bad_signature",
            key,
        )
    )
    added = {**_signed(sparse, key), "deadline": "2026-03-09T08:30:00+00:00"}
    out.append(
        _vector(
            "member-added-after-signing",
            "The absent-optional-members envelope with a deadline member added after signing",
            json.dumps(added, ensure_ascii=False),
            "bad_signature",
            key,
        )
    )
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return {
        "about": "Signature test vectors for guichet envelopes (docs/keys.md). TEST-ONLY KEY: its private "
        "key is published below; never put it in a real key directory.",
        "verified_at": VERIFIED_AT,
        "key_directory": {"keys": [KeyEntry("prefecture", KEY_ID, _raw_public(key), VALID_FROM).as_json()]},
        "test_only_private_key": {
            "key_id": KEY_ID,
            "pkcs8_pem": private_pem,
            "seed_base64": base64.b64encode(hashlib.sha256(PHRASE).digest()).decode(),
        },
        "vectors": out,
    }


def render() -> str:
    return json.dumps(vectors(), ensure_ascii=False, indent=2) + "\n"


def main(argv: list[str]) -> int:
    text = render()
    if argv:
        Path(argv[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
