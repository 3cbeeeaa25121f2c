"""The one envelope every message travels in, and its codec.

Type and version also travel as AMQP headers so that a consumer can refuse a message before
decoding it. Anything that can never succeed (undecodable body, unknown type, version above
what we know, invalid payload, sender not allowed for the type) raises a PermanentError and goes
to the error queue at once, never into a handler.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from guichet.message import Message
from guichet.timeutil import paris
from guichet.validation import describe, listed_errors, strict_json

CONTENT_TYPE = "application/json"


class PermanentError(Exception):
    """A message that no retry can make succeed."""

    reason = "permanent"


class UndecodableMessage(PermanentError):
    reason = "undecodable"


class WrongContentType(PermanentError):
    reason = "wrong_content_type"


class UnknownMessageType(PermanentError):
    reason = "unknown_type"


class UnsupportedVersion(PermanentError):
    reason = "unsupported_version"


class InvalidPayload(PermanentError):
    """`errors`: every error found, as [{"field": "payload.granted", "error": "..."}] (bounded)."""

    reason = "invalid_payload"

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None):
        super().__init__(message)
        self.errors = errors or []

    @classmethod
    def listing(cls, exc: ValidationError, prefix: str, heading: str = "") -> InvalidPayload:
        errors = listed_errors(exc, prefix)
        return cls(heading + describe(errors, exc.error_count()), errors)


class UnknownSender(PermanentError):
    reason = "unknown_sender"


class HeaderMismatch(PermanentError):
    """An AMQP header says one thing and the body another: a consumer routes and refuses by the
    headers, so they must not be able to disagree with what is processed."""

    reason = "header_mismatch"


class OutOfBounds(PermanentError):
    reason = "out_of_bounds"


# Identifiers travel into registers, file names, log lines and web pages: letters, digits and
# `. _ - /` only, starting with a letter or a digit, never `..`. Checked by pydantic's regex engine,
# which runs in linear time.
DOSSIER_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,99}$"
KEY_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"
PARTY_PATTERN = r"^[a-z][a-z_]{0,31}$"
# No text of a message is longer than this (an address, a reason, a list of arguments); no payload
# nests deeper. Far above what the contracts carry, far below what exhausts a service.
MAX_TEXT = 10_000
MAX_DEPTH = 32


def no_parent_step(dossier_id: str) -> str:
    """The part of the dossier-id rule a regex without look-ahead cannot say."""
    if ".." in dossier_id:
        raise ValueError("'..' is not allowed in a dossier id")
    return dossier_id


def new_message_id() -> uuid.UUID:
    """A UUID of version 7 (RFC 9562): the Unix time in milliseconds in its first 48 bits, then 74
    random bits. Ids made one after another sort one after another, so that the registers' indexes
    on message ids grow at their end rather than at random places all over."""
    random = int.from_bytes(os.urandom(10), "big")
    value = (
        (time.time_ns() // 1_000_000) << 80
        | 0x7 << 76
        | (random >> 68) << 64  # unix_ts_ms, ver, rand_a
        | 0b10 << 62
        | random & ((1 << 62) - 1)
    )  # var, rand_b
    return uuid.UUID(int=value)


class Sender(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    agency: str = Field(
        pattern=PARTY_PATTERN, description="The party that sent the message, e.g. 'ofii' or 'employeur'"
    )
    office: str | None = Field(
        default=None,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*$",
        description="The office within the agency, e.g. 'DT-OFII Montrouge'; for an employer, its SIRET",
    )


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    message_id: uuid.UUID = Field(default_factory=new_message_id)
    type: str = Field(max_length=100)
    # Strict: a version written 1.0, "1" or true is not a version number (JSON mode would take them).
    version: int = Field(ge=1, strict=True)
    dossier_id: str = Field(
        pattern=DOSSIER_ID_PATTERN,
        description="Correlation: the dossier this message is about; "
        "letters, digits and . _ - / (100 at most), starting with a letter or a digit, never '..'",
    )
    causation_id: uuid.UUID | None = Field(default=None, description="The message that caused this one")
    sender: Sender
    recipient: str = Field(
        pattern=PARTY_PATTERN, description="The party the message goes to; its routing key starts with it"
    )
    sent_at: datetime
    deadline: datetime | None = Field(default=None, description="When the law sets a time limit on this step")
    facts: dict[str, Any] | None = Field(
        default=None, description="Scenario facts for the simulated actors; absent in production"
    )
    payload: dict[str, Any]
    canonical: Literal["rfc8785"] | None = Field(
        default=None,
        description="The canonical JSON the signature covers: 'rfc8785' (JCS); absent (null) in "
        "envelopes signed before, over guichet's own legacy form",
    )
    key_id: str | None = Field(
        default=None, pattern=KEY_ID_PATTERN, description="The sender's signing key, in the key directory"
    )
    signature: str | None = Field(
        default=None, max_length=200, description="Ed25519 signature (base64) of the rest of the envelope"
    )

    _dossier_id = field_validator("dossier_id")(classmethod(lambda cls, value: no_parent_step(value)))

    @property
    def routing_key(self) -> str:
        return f"{self.recipient}.{self.type}"

    def headers(self) -> dict[str, Any]:
        return {"type": self.type, "version": self.version, "dossier_id": self.dossier_id, "sender": self.sender.agency}

    def body(self) -> bytes:
        return self.model_dump_json().encode()


def wrap(
    message: Message,
    *,
    dossier_id: str,
    sender: Sender,
    sent_at: datetime,
    causation_id: uuid.UUID | None = None,
    deadline: datetime | None = None,
    facts: dict[str, Any] | None = None,
    message_id: uuid.UUID | None = None,
) -> Envelope:
    return Envelope(
        message_id=message_id or new_message_id(),
        type=message.TYPE,
        version=message.VERSION,
        dossier_id=dossier_id,
        causation_id=causation_id,
        sender=sender,
        recipient=message.RECIPIENT,
        sent_at=paris(sent_at),
        deadline=paris(deadline) if deadline else None,
        facts=facts,
        payload=message.model_dump(mode="json"),
    )


def check_headers(
    headers: dict[str, Any] | None, content_type: str | None, messages: Mapping[str, type[Message]]
) -> None:
    """Refuse what can be refused before decoding: content type, unknown type or version."""
    if content_type not in (None, CONTENT_TYPE):
        raise WrongContentType(f"content type {content_type!r}, expected {CONTENT_TYPE}")
    headers = headers or {}
    if "type" in headers:
        _known_class(messages, str(headers["type"]), headers.get("version"))


def _known_class(messages: Mapping[str, type[Message]], type_: str, version: Any) -> type[Message]:
    cls = messages.get(type_)
    if cls is None:
        raise UnknownMessageType(f"unknown message type {type_!r}")
    if version is not None:
        if not isinstance(version, int) or isinstance(version, bool) or version < 1:
            raise UnsupportedVersion(f"version {version!r} of {type_} is not a positive integer")
        if version > cls.VERSION:
            raise UnsupportedVersion(f"{type_} version {version} is above the known version {cls.VERSION}")
    return cls


def decode(
    body: bytes | str,
    headers: dict[str, Any] | None = None,
    content_type: str | None = CONTENT_TYPE,
    *,
    messages: Mapping[str, type[Message]],
) -> tuple[Envelope, Message]:
    """`messages`: the types this process knows (a `MessageRegistry`); any other type is refused."""
    check_headers(headers, content_type, messages)
    try:
        # Parsed and validated in one pass, at a third of the cost of json.loads then validation;
        # strictly, as its JSON Schema says. A body it refuses is read again step by step, to be
        # refused for the first thing wrong in it (not JSON, unknown type), else for every error.
        envelope = Envelope.model_validate_json(body, strict=True)
    except ValueError:
        envelope = _envelope_step_by_step(body, messages)
    _agrees_with_headers(envelope, headers or {})
    _within_bounds(envelope.payload, "payload")
    _within_bounds(envelope.facts, "facts")
    cls = _known_class(messages, envelope.type, envelope.version)
    if envelope.sender.agency != cls.SENDER:
        raise UnknownSender(f"{envelope.type} cannot come from {envelope.sender.agency}")
    if envelope.recipient != cls.RECIPIENT:
        error = f"{envelope.type} goes to {cls.RECIPIENT}, not {_cut(envelope.recipient)}"
        raise InvalidPayload(f"recipient: {error}", [{"field": "recipient", "error": error}])
    try:
        message = strict_json(cls, cls.upcast(envelope.payload, envelope.version))
    except ValidationError as exc:
        raise InvalidPayload.listing(exc, "payload") from None
    return envelope, message


def _agrees_with_headers(envelope: Envelope, headers: dict[str, Any]) -> None:
    """Each of the headers the bus sets, when present, says what the body says."""
    for name, value in envelope.headers().items():
        if name in headers and headers[name] != value:
            raise HeaderMismatch(f"header {name} is {_cut(headers[name])}, the body says {_cut(value)}")


def _within_bounds(node: Any, where: str) -> None:
    """No text longer than MAX_TEXT, no nesting deeper than MAX_DEPTH: refused with the limit named."""
    stack = [(node, where, 0)]
    while stack:
        value, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise OutOfBounds(f"{path}: nested deeper than {MAX_DEPTH} levels")
        if isinstance(value, str) and len(value) > MAX_TEXT:
            raise OutOfBounds(f"{path}: text of {len(value)} characters, above the limit of {MAX_TEXT}")
        if isinstance(value, dict):
            for key, item in value.items():
                if len(key) > 100:
                    raise OutOfBounds(f"{path}: a key of {len(key)} characters, above the limit of 100")
                stack.append((item, f"{path}.{key}", depth + 1))
        elif isinstance(value, list):
            stack.extend((item, f"{path}.{index}", depth + 1) for index, item in enumerate(value))


def _cut(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _envelope_step_by_step(body: bytes | str, messages: Mapping[str, type[Message]]) -> Envelope:
    """JSON, then an object, then a known type and version, then a valid envelope: the first of
    these that fails names why the message is refused."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, TypeError) as exc:
        raise UndecodableMessage(f"body is not JSON: {exc}") from None
    except RecursionError:
        raise OutOfBounds(f"body nested deeper than {MAX_DEPTH} levels") from None
    if not isinstance(raw, dict):
        raise UndecodableMessage("body is not a JSON object")
    _known_class(messages, str(raw.get("type")), raw.get("version"))
    try:
        return Envelope.__pydantic_validator__.validate_json(body, strict=True)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise InvalidPayload.listing(exc, "", "envelope: ") from None
