"""A scenario read from its file one dossier at a time, so that a year of national volume never sits
in memory as objects: each dossier is validated once when the file is opened, then kept as the span
of text it came from, and read again when it is filed.

What it accepts and refuses is exactly what `parse_scenario` accepts and refuses: on the first
problem found, the whole document goes through `parse_scenario`, whose error (naming the field) is
the one raised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from guichet.timeutil import at_opening
from services.directory import Directory
from services.scenario import Scenario, ScenarioDossier, ScenarioError, check_platform, parse_scenario

_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"


class _Malformed(Exception):
    """Something the streamed reading does not take; the whole-document parse says what."""


class ScenarioFile:
    """The scenario of a file: its regime, its dossiers' ids in order, when each is filed, and each
    dossier read again on demand (`dossier(index)`)."""

    def __init__(self, path: str | Path, directory: Directory):
        self.path = str(path)
        self.directory = directory
        try:
            self._text = Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ScenarioError(f"{path}: no such file") from None
        except UnicodeDecodeError as exc:
            raise ScenarioError(f"{path}: not valid JSON ({exc})") from None
        try:
            self._read()
        except (_Malformed, ValidationError, ValueError, ScenarioError) as exc:
            # The whole document's first error, in the order parse_scenario finds them.
            self._explain()
            if isinstance(exc, ScenarioError):
                raise
            # parse_scenario found nothing wrong where this reading did: never run such a file.
            raise ScenarioError(f"{path}: could not be read dossier by dossier ({exc})") from None

    def __len__(self) -> int:
        return len(self.ids)

    def dossier(self, index: int) -> ScenarioDossier:
        start, end = self._spans[index]
        # From Python objects, as `parse_scenario` validates them: the same strictness.
        return ScenarioDossier.model_validate(json.loads(self._text[start:end]))

    def dossiers(self) -> Iterator[ScenarioDossier]:
        return (self.dossier(index) for index in range(len(self.ids)))

    def filings(self) -> list[tuple[datetime, int]]:
        """(when it is filed, its index), in filing order; the scenario's order between equals."""
        return self._filings

    def _read(self) -> None:
        text, at = self._text, self._skip(0)
        if text[at : at + 1] != "{":
            raise _Malformed("not an object")
        at = self._skip(at + 1)
        top: dict = {}
        spans: list[tuple[int, int]] = []
        while text[at : at + 1] != "}":
            key, at = _DECODER.raw_decode(text, at)
            at = self._skip(at)
            if not isinstance(key, str) or text[at : at + 1] != ":" or key in top:
                raise _Malformed("key")
            at = self._skip(at + 1)
            if key == "dossiers" and text[at : at + 1] == "[":
                at = self._read_dossiers(at, spans)
                top[key] = None
            else:
                top[key], at = _DECODER.raw_decode(text, at)
            at = self._next_item(at, "}")
        if self._skip(at + 1) != len(text) or top.get("dossiers", 0) is not None or not spans:
            raise _Malformed("end")
        # The scenario's own fields, checked by the scenario model on its first dossier.
        first_start, first_end = spans[0]
        header = Scenario.model_validate({**top, "dossiers": [json.loads(text[first_start:first_end])]})
        self.regime = header.regime
        self._spans = spans
        self.ids, seen, filings = [], set(), []
        for index in range(len(spans)):
            dossier = self.dossier(index)
            if dossier.id in seen:
                raise _Malformed("duplicate id")
            seen.add(dossier.id)
            check_platform(dossier, index, self.regime, self.directory, self.path)
            self.ids.append(dossier.id)
            filings.append((at_opening(dossier.filed_on), index))
        filings.sort()
        self._filings = filings

    def _read_dossiers(self, at: int, spans: list[tuple[int, int]]) -> int:
        text = self._text
        at = self._skip(at + 1)
        while text[at : at + 1] != "]":
            start = at
            value, at = _DECODER.raw_decode(text, at)
            if not isinstance(value, dict):
                raise _Malformed("dossier")
            spans.append((start, at))
            at = self._next_item(at, "]")
        return at + 1

    def _next_item(self, at: int, closing: str) -> int:
        """After an item of an object or a list: past its comma to the next item, or at `closing`."""
        text = self._text
        at = self._skip(at)
        if text[at : at + 1] == ",":
            at = self._skip(at + 1)
            if text[at : at + 1] == closing:
                raise _Malformed(f"a comma before {closing}")
        elif text[at : at + 1] != closing:
            raise _Malformed("separator")
        return at

    def _skip(self, at: int) -> int:
        text = self._text
        while at < len(text) and text[at] in _SPACE:
            at += 1
        return at

    def _explain(self) -> None:
        """Raise the error `parse_scenario` gives for the whole document."""
        try:
            raw = json.loads(self._text)
        except json.JSONDecodeError as exc:
            raise ScenarioError(f"{self.path}: not valid JSON ({exc})") from None
        self._text = ""
        parse_scenario(raw, self.directory, self.path)
