"""The simulation's JSON document written as it is read from the registers, a dossier at a time:
the same bytes as `json.dumps(result, ensure_ascii=False, indent=2)` of the whole result, without
the whole result in memory."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import IO, Any


def _dumped(value: Any, level: int) -> str:
    """`value` as json.dumps writes it `level` indentations deep inside a document."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)


def write_document(out: IO[str], dossiers: Iterable[dict], rest: Iterable[tuple[str, Any]]) -> None:
    """{"dossiers": [...], then each (key, value) of `rest`}; values of `rest` may be callables,
    called when their turn comes (after the dossiers are written)."""
    out.write('{\n  "dossiers": [')
    written = 0
    for dossier in dossiers:
        out.write(("\n    " if not written else ",\n    ") + _dumped(dossier, 2))
        written += 1
    out.write("\n  ]" if written else "]")
    for key, value in rest:
        value = value() if callable(value) else value
        out.write(f",\n  {json.dumps(key)}: " + _dumped(value, 1))
    out.write("\n}\n")
