"""No personal data in log lines: names, dates of birth, passport numbers, addresses.

A structlog processor redacts (1) every value under a personal field name, at any depth (the
message contracts declare which names are personal, `declare_personal_fields`), and
(2) inside any other string, the personal values of the message being handled (bound per
delivery by the runtime), e-mail addresses and telephone numbers. Payloads stay whole on the bus
and in the registers; only what is written to logs is redacted.

Every string redacted may come from another party (a key id, an error message, a body), so the
redaction runs in time linear in its length: no pattern that can backtrack over the whole string
(the e-mail pattern is found by its `@`, not searched for at every position), the bound personal
values replaced in one pass, and any string of a log line cut to MAX_LOGGED_CHARS before any of it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

REDACTED = "[REDACTED]"
PERSONAL_FIELDS: set[str] = set()
# A log line says what happened; no value in it needs more than this to be useful, and a value of
# 100,000 characters from another party must not cost a service more than a short one.
MAX_LOGGED_CHARS = 2_000
# What ends an e-mail address on either side of its `@` (white space too).
_NOT_IN_ADDRESS = frozenset("@\"'")
# The domain: some characters, a dot, at least two letters (a top-level domain), anchored at the
# part's start: each part is tried once, and the backtracking stays within it.
_DOMAIN = re.compile(r"[^@\s\"']+\.[A-Za-z]{2,}")
# Starts only at a `+`, and its repetition cannot overlap the next `+`: linear.
PHONE = re.compile(r"\+\d[\d .-]{6,}\d")
# The personal values of the message being handled: values, or a body read only if a line is logged.
_known: ContextVar[tuple[str | PersonalBody, ...]] = ContextVar("guichet_personal_values", default=())


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
def personal_data(values: list[str] | PersonalBody) -> Iterator[None]:
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
    """`text` with the bound personal values, e-mail addresses and telephone numbers redacted."""
    values = _known_values()
    if values:
        # One pass for all the values, longest first so that a full name goes before a part of it.
        alternatives = "|".join(re.escape(v) for v in sorted(set(values), key=len, reverse=True))
        text = re.sub(alternatives, REDACTED, text, flags=re.IGNORECASE)
    return PHONE.sub(REDACTED, redact_emails(text))


def redact_emails(text: str) -> str:
    """Every `local@domain.tld` replaced, found from its `@`: each character is looked at a bounded
    number of times, however long the text and however many `@` it holds."""
    out, done, at = [], 0, text.find("@")
    while at != -1:
        start = at
        while start > done and text[start - 1] not in _NOT_IN_ADDRESS and not text[start - 1].isspace():
            start -= 1
        domain = _DOMAIN.match(text, at + 1) if start < at else None
        if domain is not None:
            out.append(text[done:start] + REDACTED)
            done = domain.end()
        at = text.find("@", max(at + 1, done))
    return "".join(out) + text[done:] if out else text


def _cut(text: str) -> str:
    if len(text) <= MAX_LOGGED_CHARS:
        return text
    return f"{text[:MAX_LOGGED_CHARS]}...[{len(text) - MAX_LOGGED_CHARS} more characters not logged]"


def _clean(value: Any, key: str | None = None) -> Any:
    if key in PERSONAL_FIELDS:
        return REDACTED
    if isinstance(value, str):
        return scrub(_cut(value))
    if isinstance(value, dict):
        return {k: _clean(v, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


def redact_personal_data(logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> dict[str, Any]:
    """structlog processor: runs on every log line before it is rendered."""
    return {key: _clean(value, key) for key, value in event_dict.items()}
