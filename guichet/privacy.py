"""No personal data in log lines: names, dates of birth, passport numbers, addresses.

A structlog processor redacts (1) every value under a personal field name, at any depth (the
message contracts declare which names are personal, `declare_personal_fields`), and
(2) inside any other string, the personal values of the message being handled (bound per
delivery by the runtime), e-mail addresses and telephone numbers. Payloads stay whole on the bus
and in the registers; only what is written to logs is redacted.
"""
from __future__ import annotations

import json
import re
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

REDACTED = "[REDACTED]"
PERSONAL_FIELDS: set[str] = set()
EMAIL = re.compile(r"[^@\s\"']+@[^@\s\"']+\.[A-Za-z]{2,}")
PHONE = re.compile(r"\+\d[\d .-]{6,}\d")
# The personal values of the message being handled: values, or a body read only if a line is logged.
_known: ContextVar[tuple["str | PersonalBody", ...]] = ContextVar("guichet_personal_values", default=())


class PersonalBody:
    """A message body whose personal values are looked for the first time a log line needs them:
    most deliveries log nothing at the level a service runs at, and need not decode their body twice."""

    def __init__(self, body: bytes | str):
        self.body = body
        self._values: list[str] | None = None

    def values(self) -> list[str]:
        if self._values is None:
            self._values = values_from_body(self.body)
        return self._values


def declare_personal_fields(names: set[str] | frozenset[str]) -> None:
    """Called by the message contracts that carry personal data, when they are imported."""
    PERSONAL_FIELDS.update(names)


def personal_values(payload: Any) -> list[str]:
    """The values found under personal fields of a payload, longest first (so that a full name
    is redacted before a part of it)."""
    found: set[str] = set()

    def walk(node: Any, personal: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, personal or key in PERSONAL_FIELDS)
        elif isinstance(node, list):
            for value in node:
                walk(value, personal)
        elif personal and node is not None and len(str(node)) >= 3:
            found.add(str(node))

    walk(payload, False)
    return sorted(found, key=len, reverse=True)


def values_from_body(body: bytes | str) -> list[str]:
    try:
        return personal_values(json.loads(body))
    except Exception:  # an undecodable body: the patterns still apply
        return []


@contextmanager
def personal_data(values: "list[str] | PersonalBody") -> Iterator[None]:
    """Bind the personal values of the message being handled, for the time of its handling: the
    values themselves, or its body (`PersonalBody`), read when a log line is written."""
    bound = (values,) if isinstance(values, PersonalBody) else tuple(values)
    token = _known.set(bound + _known.get())
    try:
        yield
    finally:
        _known.reset(token)


def _known_values() -> list[str]:
    values: list[str] = []
    for item in _known.get():
        values.extend(item.values() if isinstance(item, PersonalBody) else (item,))
    return values


def scrub(text: str) -> str:
    for value in _known_values():
        text = re.sub(re.escape(value), REDACTED, text, flags=re.IGNORECASE)
    return PHONE.sub(REDACTED, EMAIL.sub(REDACTED, text))


def _clean(value: Any, key: str | None = None) -> Any:
    if key in PERSONAL_FIELDS:
        return REDACTED
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {k: _clean(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def redact_personal_data(logger: Any, method: str, event_dict: dict) -> dict:
    """structlog processor: runs on every log line before it is rendered."""
    return {key: _clean(value, key) for key, value in event_dict.items()}
