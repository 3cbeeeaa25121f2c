"""Signed messages: each party signs the envelopes it sends with its Ed25519 key; receivers check
the signature against a key directory shared by all before any handler runs.

The key directory (JSON, public, guichet/key_directory.py) says which party holds which public
key, valid from when to when, and for an employer which employer. Private keys stay in each
party's own keys folder, one file per key id. Whoever plays a party holds its key: the DT-OFII's
process holds the employers' and the worker's keys only when it runs their simulated actors.

A receiver judges a key on its own clock: a key withdrawn (its `valid_until` reached) is refused
from then on, whatever date the sender wrote in `sent_at`, and `sent_at` must fall within the
key's validity too. The directory is read again when it changes (RELOAD_SECONDS), so a withdrawal
takes effect while the services run. docs/keys.md is the procedure.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import structlog
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from guichet.canonical_json import RFC8785, CanonicalFormError, jcs, refuse_unfit
from guichet.configuration import ConfigurationError
from guichet.envelope import Envelope, PermanentError
from guichet.key_directory import KEY_ID_PATTERN, SUBJECT_PARTIES, KeyDirectory, KeyEntry

log = structlog.get_logger("guichet.trust")


class Unsigned(PermanentError):
    reason = "unsigned"


class BadSignature(PermanentError):
    reason = "bad_signature"


class WrongSenderKey(PermanentError):
    reason = "wrong_sender_key"


class ExpiredKey(PermanentError):
    """A key withdrawn on the receiver's clock, or a sent_at outside the key's validity."""

    reason = "expired_key"


class KeyDirectoryUnreadable(PermanentError):
    reason = "key_directory_unreadable"


class NoSigningKey(ConfigurationError, RuntimeError):
    """This process holds no valid key of the envelope's sender: its keys folders are to be repaired.
    A command says so and exits 2; a service's handling fails, is retried, then filed."""


class NotCanonical(PermanentError):
    """A value no canonical JSON can carry faithfully (NaN, an integer beyond 2^53-1): never signed,
    never verified, rather than signed over bytes that another language would read differently."""

    reason = "not_canonical"


def canonical(envelope: Envelope, received: bytes | str | None = None) -> bytes:
    """What a signature covers: the whole envelope but the signature, in the canonical form that the
    envelope's `canonical` field names (and that the signature covers too, so it cannot be swapped).

    `rfc8785`: RFC 8785 (JCS) of the JSON object received (`received`, the body as it came off the
    wire; the envelope's own body when not given, which is what `Trust.sign` signs and sends) minus
    its `signature` member. Taken from the JSON as parsed, never from a re-serialisation of the
    model, so that any conforming signer is accepted: absent optional members, `+00:00` or `Z`,
    any key order and whitespace. Absent: the legacy form of envelopes signed before the field
    existed, Python's sorted compact `json.dumps` of the model, kept so that they still verify;
    nothing is signed in it any more.
    """
    if envelope.canonical == RFC8785:
        try:
            if received is None:
                refuse_unfit({"payload": envelope.payload, "facts": envelope.facts})  # before NaN is dumped as null
                received = envelope.body()
            data = signed_object(received)
            return jcs(data)
        except CanonicalFormError as exc:
            raise NotCanonical(f"{envelope.type}: {exc}") from None
    data = envelope.model_dump(mode="json", exclude={"signature"})
    del data["canonical"]
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """RFC 8785 takes I-JSON: a member named twice would let the signature cover one value while
    the envelope's reader keeps another."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise CanonicalFormError(f"member {key[:100]!r} appears twice; RFC 8785 takes each member once")
        found[key] = value
    return found


def signed_object(body: bytes | str) -> dict[str, Any]:
    """The JSON object of an envelope as received, minus `signature`: what an RFC 8785 signature
    covers, canonicalised by `jcs`."""
    try:
        data = json.loads(body, object_pairs_hook=_no_duplicate_keys)
    except (ValueError, RecursionError) as exc:  # decode() has accepted it already; kept for direct callers
        raise CanonicalFormError(f"the body is not a JSON object ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise CanonicalFormError("the body is not a JSON object")
    data.pop("signature", None)
    return data


def generate(
    party: str, keys_dir: Path, directory: KeyDirectory, valid_from: datetime, subject: str | None = None
) -> KeyEntry:
    """A new key pair: the private key to `keys_dir` (mode 0600), the public one into `directory`
    (saved by the caller). `subject`: the employer (SIRET) an employer's key speaks for."""
    private = Ed25519PrivateKey.generate()
    key_id = "-".join([party, *([subject] if subject else []), f"{valid_from:%Y%m%dT%H%M%S}", os.urandom(3).hex()])
    keys_dir.mkdir(parents=True, exist_ok=True)
    path = keys_dir / f"{key_id}.pem"
    path.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    path.chmod(0o600)
    public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    entry = KeyEntry(party, key_id, base64.b64encode(public).decode(), valid_from, subject=subject)
    directory.entries.append(entry)
    return entry


def _load_private_key(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigurationError(f"{path}: not an Ed25519 private key (guichet keys init writes one)")
    return key


class Trust:
    """Signs what this process sends for the parties whose keys it holds; verifies what it receives."""

    def __init__(self, directory: KeyDirectory, keys_dir: Path | Iterable[Path] | None):
        self.directory = directory
        # One folder, or several (the DT-OFII's own and the portal's when it plays the employers).
        folders = [] if keys_dir is None else [keys_dir] if isinstance(keys_dir, (str, Path)) else list(keys_dir)
        self.keys_dirs = [Path(f) for f in folders]
        self.private: dict[str, Ed25519PrivateKey] = {}
        self._missing: dict[str, float] = {}
        for folder in self.keys_dirs:
            for path in sorted(folder.glob("*.pem")):
                self.private[path.stem] = _load_private_key(path)

    def _private_key(self, key_id: str) -> Ed25519PrivateKey | None:
        """A key put in the keys folder after start (a rotation) is loaded when first needed; a key
        not found is looked for again after RELOAD_SECONDS, not at every message."""
        if key_id in self.private or not KEY_ID_PATTERN.match(key_id):
            return self.private.get(key_id)
        if time.monotonic() - self._missing.get(key_id, float("-inf")) < self.directory.reload_seconds:
            return None
        for folder in self.keys_dirs:
            path = folder / f"{key_id}.pem"
            if path.is_file():
                self.private[key_id] = _load_private_key(path)
                return self.private[key_id]
        self._missing[key_id] = time.monotonic()
        return None

    def signing_key(self, party: str, moment: datetime, subject: str | None = None) -> KeyEntry | None:
        """The newest key of the party (of the employer `subject`) valid at `moment` that this process
        holds: during an overlap, the old key until the new one's private key is in place. A key
        withdrawn by now is not used, whatever `moment` says: its receivers would refuse it."""
        self.directory.refresh()
        now = datetime.now(UTC)
        return next(
            (
                e
                for e in self.directory.valid(party, moment, subject)
                if not e.withdrawn_at(now) and self._private_key(e.key_id)
            ),
            None,
        )

    def sign(self, envelope: Envelope) -> Envelope:
        party = envelope.sender.agency
        subject = envelope.sender.office if party in SUBJECT_PARTIES else None
        if party in SUBJECT_PARTIES and not subject:
            raise NoSigningKey(f"an envelope from {party} names which one in sender.office (an employer's SIRET)")
        entry = self.signing_key(party, envelope.sent_at, subject)
        if entry is None:
            whose = f"{party} {subject!r}" if party in SUBJECT_PARTIES else party
            raise NoSigningKey(f"no valid signing key of {whose} in this process's keys folders")
        unsigned = envelope.model_copy(update={"canonical": RFC8785, "key_id": entry.key_id, "signature": None})
        # Over the body it will travel in (Envelope.body()), as its receiver will read it.
        signature = self.private[entry.key_id].sign(canonical(unsigned))
        return unsigned.model_copy(update={"signature": base64.b64encode(signature).decode()})

    def verify(self, envelope: Envelope, now: datetime | None = None, received: bytes | str | None = None) -> None:
        """Refuse what this receiver cannot trust, judged at `now`, the receiver's own clock (the
        current UTC time when not given). `received`: the body the envelope was decoded from, the
        bytes an RFC 8785 signature is checked over (the envelope's own body when not given).
        Every refusal is logged with its reason."""
        try:
            self._verify(envelope, now or datetime.now(UTC), received)
        except PermanentError as exc:
            log.warning(
                "signature refused",
                reason=exc.reason,
                key_id=(envelope.key_id or "")[:200] or None,
                sender=envelope.sender.agency,
                type=envelope.type,
                message_id=str(envelope.message_id),
                error=str(exc),
            )
            raise

    def _verify(self, envelope: Envelope, now: datetime, received: bytes | str | None) -> None:
        sender = envelope.sender.agency
        if not envelope.signature or not envelope.key_id:
            raise Unsigned(f"{envelope.type} from {sender} is not signed")
        self.directory.refresh()
        if self.directory.unreadable:
            raise KeyDirectoryUnreadable(f"the key directory cannot be read ({self.directory.unreadable})")
        entry = self.directory.get(envelope.key_id)
        if entry is None or entry.party != sender:
            raise WrongSenderKey(f"key {envelope.key_id!r} is not a key of {sender}")
        if sender in SUBJECT_PARTIES and entry.subject is None:
            raise WrongSenderKey(f"key {entry.key_id} is a shared {sender} key: each {sender} signs with its own")
        if entry.subject is not None and entry.subject != envelope.sender.office:
            raise WrongSenderKey(f"key {entry.key_id} is not a key of the {sender} this envelope names")
        if entry.withdrawn_at(now):
            assert entry.valid_until is not None  # withdrawn_at is true only with a valid_until
            raise ExpiredKey(
                f"key {entry.key_id} was withdrawn at {entry.valid_until.isoformat()} "
                f"(this receiver's clock: {now.isoformat()})"
            )
        if not entry.valid_at(envelope.sent_at):
            raise ExpiredKey(f"key {entry.key_id} is not valid at {envelope.sent_at.isoformat()}")
        signed_bytes = canonical(envelope, received)
        try:
            Ed25519PublicKey.from_public_bytes(base64.b64decode(entry.public_key)).verify(
                base64.b64decode(envelope.signature), signed_bytes
            )
        except (InvalidSignature, ValueError) as exc:
            raise BadSignature(
                f"the signature of {envelope.type} does not match its content ({type(exc).__name__})"
            ) from None
