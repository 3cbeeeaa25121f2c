"""A failed message's body as the console shows it: personal data redacted whether or not the body
parses as JSON. A deposit cut in the middle is no JSON, yet its names, passport and address are
there: the body is read as JSON tokens, tolerantly, in one pass (no recursion, no backtracking: a
deeply nested or huge body costs its length), and every value under a personal field name, at any
depth, is replaced; the values met there are then redacted wherever else they appear, with e-mail
addresses and telephone numbers (guichet.privacy). A body over SHOWN_BODY_BYTES is shown cut."""

from __future__ import annotations

import schemas.dossier  # noqa: F401  (the message contracts declare their personal field names)
from guichet.privacy import PERSONAL_FIELDS, REDACTED, personal_data, scrub

SHOWN_BODY_BYTES = 64 * 1024
MIN_BOUND = 3  # a personal value shorter than this is not looked for elsewhere (it would match anything)


def _string_end(text: str, start: int) -> int:
    """The index after the string that opens at `start` (a quote), or len(text) if it is cut."""
    i, n = start + 1, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        else:
            i += 1
    return n


def redact_json_text(text: str) -> tuple[str, list[str]]:
    """`text` with every value under a personal field replaced, and the values replaced."""
    out: list[str] = []
    found: list[str] = []
    # One entry per open container: is it personal, is it an object; and the key just read.
    stack: list[tuple[bool, bool]] = []
    key: str | None = None
    expecting_key = False
    i, n, done = 0, len(text), 0
    while i < n:
        c = text[i]
        in_object = bool(stack) and stack[-1][1]
        personal_here = bool(stack) and stack[-1][0]
        value_personal = personal_here or (in_object and not expecting_key and key in PERSONAL_FIELDS)
        if c == '"':
            end = _string_end(text, i)
            if in_object and expecting_key:
                key, expecting_key = text[i + 1 : end - 1], False
            elif value_personal:
                found.append(text[i + 1 : end - 1] if text[end - 1 : end] == '"' else text[i + 1 : end])
                out.append(text[done:i] + f'"{REDACTED}"')
                done = end
            i = end
            continue
        if c in "{[":
            stack.append((value_personal, c == "{"))
            expecting_key = c == "{"
        elif c in "}]":
            if stack:
                stack.pop()
            expecting_key = False
        elif c == ",":
            expecting_key = in_object
        elif value_personal and (c.isalnum() or c in "-+."):
            j = i
            while j < n and (text[j].isalnum() or text[j] in "-+."):
                j += 1
            found.append(text[i:j])
            out.append(text[done:i] + f'"{REDACTED}"')
            done = i = j
            continue
        i += 1
    out.append(text[done:])
    return "".join(out), found


def redacted_body(body: bytes) -> dict:
    """{"text": what the page shows, "cut": bytes left out}."""
    cut = max(len(body) - SHOWN_BODY_BYTES, 0)
    text = body[:SHOWN_BODY_BYTES].decode("utf-8", "replace")
    redacted, values = redact_json_text(text)
    with personal_data([v for v in values if len(v) >= MIN_BOUND and v != REDACTED]):
        return {"text": scrub(redacted), "cut": cut}
