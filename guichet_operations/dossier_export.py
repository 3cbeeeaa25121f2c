"""Everything the bus holds on one dossier, for an access request (RGPD art. 15: the person has the
right to obtain a copy of the personal data undergoing processing): each agency's register
(guichet/registers/export.py) and, if given, the supervision store. One JSON document, whose
`places` say where each part was found; an erased dossier shows its erasures and nothing personal.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guichet.register_reader import RegisterReader
from guichet_operations.supervision.store import Store

STORE_TABLES = ("dossiers", "records", "tasks", "refusals", "failures", "erasures")


def _value(column: str, value: Any) -> Any:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    if column in ("projection", "personal", "notice", "headers") and isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def store_export(store: Store, dossier_id: str) -> dict[str, list[dict[str, Any]]]:
    """The dossier's rows in each table of the supervision store that names it."""
    order = {"records": " ORDER BY agency, seq", "failures": " ORDER BY id"}
    return {
        table: [
            {k: _value(k, v) for k, v in row.items()}
            for row in store.rows(f"SELECT * FROM {table} WHERE dossier_id = ?{order.get(table, '')}", dossier_id)
        ]
        for table in STORE_TABLES
    }


def export(
    dossier_id: str, agencies: list[str], data_dir: str | Path, database_url: str | None, store: Store | None
) -> dict[str, Any]:
    registers: dict[str, Any] = {}
    for agency in agencies:
        with RegisterReader(agency, data_dir, database_url) as reader:
            registers[agency] = reader.export(dossier_id)
    document: dict[str, Any] = {
        "dossier_id": dossier_id,
        "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "places": [a for a, held in registers.items() if held is not None],
        "registers": registers,
    }
    if store is not None:
        document["supervision"] = store_export(store, dossier_id)
        if any(document["supervision"].values()):
            document["places"].append("supervision")
    return document
