"""Strict validation of what arrives, as the published JSON Schemas say, and the list of what is wrong.

A payload is validated with JSON's own types, strictly: a boolean is `true` or `false`, never
`"yes"`; a number is a JSON number, never `"5200"`; an integer is never `"5"`. Dates, UUIDs and
enumerations are JSON strings in the schemas, and are taken as such. A connector in another
language that follows `guichet schemas` is accepted, one that writes anything else is refused
with every error listed, each with its field path, so that it can mend them all at once.

The list is bounded (MAX_LISTED errors, each cut to a few hundred characters), so that a hostile
payload with thousands of wrong members cannot make a refusal, a log line or an error-queue header
of megabytes.
"""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic_core
from pydantic import BaseModel, ValidationError

MAX_LISTED = 20
MAX_FIELD = 200
MAX_ERROR = 300

ModelT = TypeVar("ModelT", bound=BaseModel)


def strict_json(cls: type[ModelT], value: Any) -> ModelT:
    """`value` (JSON as parsed: dicts, lists, strings, numbers) validated as `cls` in pydantic's
    strict JSON mode, the semantics of its JSON Schema. Written back to JSON first, since pydantic's
    strict mode on Python objects would refuse a date given as a string; NaN is kept as NaN so that
    the model, not the writer, decides on it."""
    return cls.model_validate_json(pydantic_core.to_json(value, inf_nan_mode="constants"), strict=True)


def listed_errors(exc: ValidationError, prefix: str = "") -> list[dict[str, str]]:
    """Every error of `exc` (MAX_LISTED at most) as {"field": "payload.granted", "error": "..."}."""
    listed = []
    for err in exc.errors(include_url=False, include_input=False, include_context=False)[:MAX_LISTED]:
        where = ".".join(str(part) for part in err["loc"])
        field = f"{prefix}.{where}" if prefix and where else prefix or where or "(root)"
        listed.append({"field": _cut(field, MAX_FIELD), "error": _cut(err["msg"], MAX_ERROR)})
    return listed


def describe(errors: list[dict[str, str]], total: int) -> str:
    """One line naming every listed error, and how many more were not listed."""
    text = "; ".join(f"{e['field']}: {e['error']}" for e in errors)
    if total > len(errors):
        text += f"; and {total - len(errors)} more"
    return text


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
