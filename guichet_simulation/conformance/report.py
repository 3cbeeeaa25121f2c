"""The verdict of a conformance run: one line per check, then a summary; or the same as JSON."""

from __future__ import annotations

import json

from guichet_simulation.conformance.checks import FAILED, OK, Check
from guichet_simulation.conformance.runner import Run


def passed(found: list[Check]) -> bool:
    return all(c.status != FAILED for c in found)


def as_text(run: Run, found: list[Check]) -> str:
    lines = [f"{c.status:<7} {c.name}" + (f": {c.why}" if c.why else "") for c in found]
    failed = sum(c.status == FAILED for c in found)
    ok = sum(c.status == OK for c in found)
    skipped = len(found) - failed - ok
    verdict = "CONFORMS" if not failed else "DOES NOT CONFORM"
    lines.append(
        f"{run.options.agency} on {run.options.namespace}: {verdict}: {ok} ok, {failed} failed, "
        f"{skipped} skipped, {len(run.dossiers)} dossiers"
    )
    if failed and run.logs is not None:
        lines.append(f"the kit's agencies logged to {run.logs}")
    return "\n".join(lines)


def as_json(run: Run, found: list[Check]) -> str:
    return json.dumps(
        {
            "agency": run.options.agency,
            "namespace": run.options.namespace,
            "passed": passed(found),
            "checks": [c.as_dict() for c in found],
            "dossiers": [
                {
                    "id": d.id,
                    "case": d.case.name,
                    "expected_outcome": d.reference["outcome"],
                    "outcome": (d.live or {}).get("outcome"),
                    "waited_for": d.waited_for,
                }
                for d in run.dossiers
            ],
        },
        ensure_ascii=False,
        indent=2,
    )
