"""The log of operator actions: who replayed, archived or restored what, when, and how many.

One JSON object a line, appended to a file of the tool's own (`ops-actions.jsonl` in the data
folder, or `--actions-log`), and the same record on the structured log. Not in an agency's
register: a register is that agency's evidence, written by its service alone and hash-chained;
the operator's tool must not write into it. A JSON lines file is append-only, readable with any
tool, and survives the broker and the registers being moved.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path

import structlog

from guichet.private_files import append_private

log = structlog.get_logger("guichet.ops")
_lock = threading.Lock()


class ActionLog:
    def __init__(self, path: Path):
        self.path = Path(path)

    def record(self, account: str, action: str, selection: dict, ids: list[str], outcome: str) -> dict:
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "account": account,
            "action": action,
            "selection": selection,
            "count": len(ids),
            "ids": ids,
            "outcome": outcome,
        }
        with _lock:
            # Who acted on which dossiers' messages: 0600, in a folder created 0700.
            append_private(self.path, json.dumps(entry, ensure_ascii=False) + "\n")
        log.info("operator action", **entry)
        return entry

    def last(self, n: int = 20) -> list[dict]:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in reversed(lines[-n:]) if line.strip()]
