"""Canonical JSON: the exact bytes that a signature or a journal hash covers.

The form is RFC 8785, the JSON Canonicalization Scheme (JCS): object keys sorted by their UTF-16
code units, no whitespace, strings in UTF-8 with only the escapes JSON requires, numbers written
as ECMAScript writes them (5200.0 is `5200`, 1e21 is `1e+21`, -0.0 is `0`). A connector in Java,
C#, JavaScript or any language with a JCS library rebuilds the same bytes from the JSON it
received, whatever its parser made of `5200` or `5200.0`.

A value that JCS cannot carry faithfully is refused with the place where it stands, never written
in some other form: NaN and the infinities (JSON has no such numbers), integers beyond ±(2^53-1)
(a reader whose numbers are IEEE doubles, as JavaScript's are, would round them) and strings
that are not valid Unicode (lone surrogates).
"""

from __future__ import annotations

import json
import math
from typing import Any

import rfc8785

RFC8785 = "rfc8785"
SAFE_INTEGER = 2**53 - 1


class CanonicalFormError(ValueError):
    """A value that RFC 8785 canonical JSON cannot represent."""


def jcs(value: Any) -> bytes:
    """The RFC 8785 bytes of a JSON value (dicts, lists, str, int, float, bool, None)."""
    if type(value) is dict and _flat(value):
        # A flat object of ASCII keys and strings, safe integers, booleans and nulls (a journal
        # record): Python's compact, sorted, non-ASCII JSON is byte for byte RFC 8785 there (same
        # key order, same escapes, lowercase \u00xx), at a tenth of the cost. Anything else, a
        # float above all, goes through the RFC 8785 library.
        try:
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: refused below, naming its place
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeEncodeError) as exc:
        refuse_unfit(value)
        raise CanonicalFormError(f"{exc}; RFC 8785 canonical JSON cannot carry it") from None


def _flat(value: dict[Any, Any]) -> bool:
    for key, item in value.items():
        if type(key) is not str or not key.isascii():
            return False
        kind = type(item)
        if not (kind is str or item is None or kind is bool or (kind is int and -SAFE_INTEGER <= item <= SAFE_INTEGER)):
            return False
    return True


def refuse_unfit(value: Any) -> None:
    """Refuse, naming its place, a number or string JCS cannot carry; also for values taken before a
    JSON dump that would silently write NaN as null (pydantic does so within `dict[str, Any]`)."""
    if (found := _first_unfit(value, "")) is not None:
        where, why = found
        raise CanonicalFormError(f"{where or '(root)'}: {why}; RFC 8785 canonical JSON cannot carry it")


def _first_unfit(value: Any, where: str) -> tuple[str, str] | None:
    """Where the first value JCS refuses stands (e.g. `payload.salary`), and why."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return None if abs(value) <= SAFE_INTEGER else (where, f"integer {value} is beyond ±(2^53-1)")
    if isinstance(value, float):
        return None if math.isfinite(value) else (where, f"{value} is not a JSON number")
    if isinstance(value, str):
        return None if _is_unicode(value) else (where, "string is not valid Unicode (lone surrogate)")
    if isinstance(value, dict):
        for key, item in value.items():
            inner = f"{where}.{key}" if where else str(key)
            if not isinstance(key, str) or not _is_unicode(key):
                return inner, "object key is not a valid Unicode string"
            if (found := _first_unfit(item, inner)) is not None:
                return found
        return None
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            if (found := _first_unfit(item, f"{where}[{index}]")) is not None:
                return found
    return None  # other types (a date before its JSON dump) are for the dump to convert


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
