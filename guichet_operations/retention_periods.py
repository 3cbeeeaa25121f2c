"""How long the bus keeps each kind of personal data, as configuration (RGPD art. 5(1)(e): kept no
longer than its purpose needs). docs/retention.md gives each period, where it comes from and what a
text says; where no text fixes one, the default is this project's choice and says so.

A periods file is JSON, every key optional, each a whole number of days (at least 1):

    {"closed_days": 365, "inactive_days": 1825, "archive_days": 365,
     "supervision_days": 365, "actions_days": 365}

given with `--periods FILE` or $GUICHET_RETENTION_PERIODS. A key it does not know, or a value that
is not a number of days, is refused naming the key: a typo must not leave data kept for ever.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from pathlib import Path

from guichet.configuration import ConfigurationError
from guichet_operations.supervision.retention import DEFAULT_ACTIONS_DAYS, DEFAULT_DAYS

VARIABLE = "GUICHET_RETENTION_PERIODS"


@dataclass(frozen=True)
class Periods:
    # A dossier the DT-OFII closed (its outcome set): its personal data in every register, counted
    # from its last change in any of them. Chosen default: the time to answer a recourse and a
    # dispute over a transmission, well short of AGDREF2's five years (the record is AGDREF2's).
    closed_days: int = 365
    # A dossier still open but untouched for this long (a procedure abandoned): five years without
    # an update, as R.611-7-1 of the CESEDA (former numbering) erases an AGDREF2 file; by analogy.
    inactive_days: int = 5 * 365
    # A message an operator set aside in `erreurs.archive`, counted from its archiving. Chosen default.
    archive_days: int = 365
    # The supervision store's closed dossiers and settled failures, and its actions journal
    # (supervision/retention.py, `guichet supervise --retention-days`).
    supervision_days: int = DEFAULT_DAYS
    actions_days: int = DEFAULT_ACTIONS_DAYS

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigurationError(f"retention period {f.name}: {value!r} is not a whole number of days (>= 1)")


def load(path: str | None) -> Periods:
    """The periods of `path` (else $GUICHET_RETENTION_PERIODS), the defaults for what it leaves out."""
    path = path or os.environ.get(VARIABLE) or None
    if path is None:
        return Periods()
    try:
        given = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"--periods: {path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise ConfigurationError(f"--periods: {path}: {exc}") from None
    if not isinstance(given, dict):
        raise ConfigurationError(f"--periods: {path}: a JSON object of periods in days is expected")
    known = {f.name for f in fields(Periods)}
    unknown = sorted(set(given) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise ConfigurationError(f"--periods: {path}: unknown period {unknown[0]!r} (known: {names})")
    return Periods(**given)
