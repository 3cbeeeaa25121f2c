"""Signed messages: each party signs the envelopes it sends with its Ed25519 key; receivers check
the signature against a key directory shared by all before any handler runs.

The key directory (JSON, public) says which party holds which public key, valid from when to
when. Private keys stay in each party's own keys folder, one file per key id. Whoever plays a
party holds its key: the DT-OFII's process holds the employer's and the worker's keys only when it
runs their simulated actors.
"""
from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from guichet.canonical_json import RFC8785, CanonicalFormError, jcs, refuse_unfit
from guichet.envelope import Envelope, PermanentError


class Unsigned(PermanentError):
    reason = "unsigned"


class BadSignature(PermanentError):
    reason = "bad_signature"


class WrongSenderKey(PermanentError):
    reason = "wrong_sender_key"


class ExpiredKey(PermanentError):
    reason = "expired_key"


class NotCanonical(PermanentError):
    """A value no canonical JSON can carry faithfully (NaN, an integer beyond 2^53-1): never signed,
    never verified, rather than signed over bytes that another language would read differently."""
    reason = "not_canonical"


def canonical(envelope: Envelope) -> bytes:
    """What a signature covers: the whole envelope but the signature, in the canonical form that the
    envelope's `canonical` field names (and that the signature covers too, so it cannot be swapped).

    `rfc8785`: RFC 8785 (JCS) of the envelope's JSON without `signature`, which any language
    rebuilds. Absent: the legacy form of envelopes signed before the field existed, Python's sorted
    compact `json.dumps`, kept so that they still verify; nothing is signed in it any more.
    """
    data = envelope.model_dump(mode="json", exclude={"signature"})
    if envelope.canonical == RFC8785:
        try:
            refuse_unfit({"payload": envelope.payload, "facts": envelope.facts})  # before NaN is dumped as null
            return jcs(data)
        except CanonicalFormError as exc:
            raise NotCanonical(f"{envelope.type}: {exc}") from None
    del data["canonical"]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class KeyEntry:
    party: str
    key_id: str
    public_key: str
    valid_from: datetime
    valid_until: datetime | None = None

    def valid_at(self, moment: datetime) -> bool:
        return self.valid_from <= moment and (self.valid_until is None or moment < self.valid_until)


class KeyDirectory:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        raw = json.loads(self.path.read_text()) if self.path.exists() else {"keys": []}
        self.entries = [KeyEntry(e["party"], e["key_id"], e["public_key"], datetime.fromisoformat(e["valid_from"]),
                                 datetime.fromisoformat(e["valid_until"]) if e.get("valid_until") else None)
                        for e in raw["keys"]]

    def get(self, key_id: str) -> KeyEntry | None:
        return next((e for e in self.entries if e.key_id == key_id), None)

    def current(self, party: str, moment: datetime) -> KeyEntry | None:
        valid = [e for e in self.entries if e.party == party and e.valid_at(moment)]
        return max(valid, key=lambda e: e.valid_from) if valid else None

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps({"keys": [
            {"party": e.party, "key_id": e.key_id, "public_key": e.public_key, "valid_from": e.valid_from.isoformat(),
             "valid_until": e.valid_until.isoformat() if e.valid_until else None} for e in self.entries]}, indent=2))


def generate(party: str, keys_dir: Path, directory: KeyDirectory, valid_from: datetime) -> KeyEntry:
    private = Ed25519PrivateKey.generate()
    key_id = f"{party}-{valid_from:%Y%m%dT%H%M%S}-{os.urandom(3).hex()}"
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / f"{key_id}.pem"
    path.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    path.chmod(0o600)
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    entry = KeyEntry(party, key_id, base64.b64encode(public).decode(), valid_from)
    directory.entries.append(entry)
    return entry


class Trust:
    """Signs what this process sends for the parties whose keys it holds; verifies what it receives."""

    def __init__(self, directory: KeyDirectory, keys_dir: Path | None):
        self.directory = directory
        self.private: dict[str, Ed25519PrivateKey] = {}
        for path in sorted(Path(keys_dir).glob("*.pem")) if keys_dir else []:
            self.private[path.stem] = serialization.load_pem_private_key(path.read_bytes(), password=None)

    @classmethod
    def from_environment(cls) -> "Trust | None":
        """GUICHET_KEY_DIRECTORY turns signing on; GUICHET_KEYS_DIR holds this process's private keys."""
        from guichet.settings import SigningSettings
        return SigningSettings.from_environ().trust()

    def sign(self, envelope: Envelope) -> Envelope:
        entry = self.directory.current(envelope.sender.agency, envelope.sent_at)
        if entry is None or entry.key_id not in self.private:
            raise RuntimeError(f"no valid signing key of {envelope.sender.agency} in this process's keys folder")
        unsigned = envelope.model_copy(update={"canonical": RFC8785, "key_id": entry.key_id, "signature": None})
        signature = self.private[entry.key_id].sign(canonical(unsigned))
        return unsigned.model_copy(update={"signature": base64.b64encode(signature).decode()})

    def verify(self, envelope: Envelope) -> None:
        if not envelope.signature or not envelope.key_id:
            raise Unsigned(f"{envelope.type} from {envelope.sender.agency} is not signed")
        entry = self.directory.get(envelope.key_id)
        if entry is None or entry.party != envelope.sender.agency:
            raise WrongSenderKey(f"key {envelope.key_id!r} is not a key of {envelope.sender.agency}")
        if not entry.valid_at(envelope.sent_at):
            raise ExpiredKey(f"key {envelope.key_id} is not valid at {envelope.sent_at.isoformat()}")
        signed_bytes = canonical(envelope.model_copy(update={"signature": None}))
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(entry.public_key)).verify(
                base64.b64decode(envelope.signature), signed_bytes)
        except (InvalidSignature, ValueError) as exc:
            raise BadSignature(f"the signature of {envelope.type} does not match its content ({type(exc).__name__})") \
                from None
