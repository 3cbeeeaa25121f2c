"""The checks of a conformance run, each ok, FAILED with why, or skipped when it does not apply."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from guichet.delivery_receipts import is_receipt
from guichet.timeutil import paris
from guichet_simulation.conformance.runner import Dossier, Run
from schemas.base import AGENCIES

OK, FAILED, SKIPPED = "ok", "FAILED", "skipped"
REFUSED_BY_SIGNATURE = ("bad_signature", "unsigned", "wrong_sender_key", "expired_key")


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    why: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def day(text: str | None) -> str | None:
    return paris(datetime.fromisoformat(text)).date().isoformat() if text else None


def checks(run: Run) -> list[Check]:
    found: list[Check] = []
    for d in run.dossiers:
        found += _dossier(run, d)
    found += [_accepted(run), _signatures(run), _receipts(run), *_probes(run)]
    return found


def _dossier(run: Run, d: Dossier) -> list[Check]:
    name = f"dossier {d.id} ({d.case.what})"
    tolerance = run.options.date_tolerance
    if d.waited_for is not None:
        why = f"timed out waiting for {d.waited_for}"
        return [Check(f"{name}: completes", FAILED, why)]
    found = []
    if run.observes_views:
        live = d.live or {}
        expected, got = d.reference["outcome"], live.get("outcome")
        found.append(
            Check(f"{name}: outcome", *((OK, expected) if got == expected else (FAILED, f"{got}, expected {expected}")))
        )
        found.append(_compare(f"{name}: steps and dates", _steps(d.reference), _steps(live), tolerance))
        found.append(
            _compare(
                f"{name}: legal deadlines",
                _deadlines(d.reference) + [("breaches", *d.reference["deadline_breaches"])],
                _deadlines(live) + [("breaches", *live.get("deadline_breaches", []))],
                tolerance,
            )
        )
    sent = [(m["type"], m["recipient"], day(m["sent_at"]), day(m["deadline"])) for m in run.connector_sent(d)]
    expected_sent = [(m["type"], m["recipient"], day(m["sent_at"]), day(m["deadline"])) for m in d.reference_sent]
    found.append(_compare(f"{name}: messages sent by {run.options.agency}", expected_sent, sent, tolerance))
    return found


def _steps(view: dict[str, Any]) -> list[tuple]:
    return [(s["step"], s["from"], s["to"], day(s["at"])) for s in view.get("steps", [])]


def _deadlines(view: dict[str, Any]) -> list[tuple]:
    return [(s["step"], day(s["deadline"]), s["late"]) for s in view.get("steps", [])]


def _compare(name: str, expected: list, got: list, tolerance: int) -> Check:
    """Equal, but for dates that may differ by `tolerance` days: on a compressed clock a process's
    latency is hours of bus time, and a message sent at 23:00 instead of 21:00 lands a day later."""
    left = list(got)
    missing = []
    for item in expected:
        match = next((g for g in left if _same(item, g, tolerance)), None)
        if match is None:
            missing.append(item)
        else:
            left.remove(match)
    if not missing and not left:
        return Check(name, OK, f"{len(expected)} as in the reference run")
    parts = [f"missing {', '.join(map(str, missing[:3]))}"] if missing else []
    parts += [f"unexpected {', '.join(map(str, left[:3]))}"] if left else []
    return Check(name, FAILED, "; ".join(parts))


def _same(a: tuple, b: tuple, tolerance: int) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if x == y:
            continue
        if isinstance(x, str) and isinstance(y, str) and len(x) == len(y) == 10 and x[4] == "-" == y[4]:
            if abs((date.fromisoformat(x) - date.fromisoformat(y)).days) <= tolerance:
                continue
        return False
    return True


def _connector_errors(run: Run) -> list[str]:
    """Messages of the connector that the kit's agencies refused (not the kit's own probes)."""
    assert run.tap is not None
    probes = {str(p.get("message_id")) for p in run.probes.values() if isinstance(p, dict) and "message_id" in p}
    return [
        str(s.headers.get("x-guichet-error-reason"))
        for s in run.tap.errors
        if s.sender == run.options.agency and not any(s.mentions(m) for m in probes)
    ]


def _accepted(run: Run) -> Check:
    refused = _connector_errors(run)
    if refused:
        return Check("messages accepted by the other agencies", FAILED, f"refused: {', '.join(sorted(set(refused)))}")
    return Check("messages accepted by the other agencies", OK, "none in the error queue")


def _signatures(run: Run) -> Check:
    name = "signatures valid"
    if run.options.trust is None:
        return Check(name, SKIPPED, "the bus runs unsigned (no --key-directory)")
    assert run.tap is not None
    unsigned = [
        s.envelope.get("type")
        for s in run.tap.sent_by(run.options.agency)
        if s.envelope and not s.envelope.get("signature")
    ]
    if unsigned:
        return Check(name, FAILED, f"unsigned: {', '.join(sorted(set(map(str, unsigned))))}")
    bad = [r for r in _connector_errors(run) if r in REFUSED_BY_SIGNATURE]
    if bad:
        return Check(name, FAILED, f"refused by the other agencies: {', '.join(sorted(set(bad)))}")
    return Check(name, OK, "every message signed and accepted")


def _receipts(run: Run) -> Check:
    """Signed, every transmission another administration sent the connector and the connector took
    (none of the error queue's) is acknowledged with a signed receipt of the bytes it received."""
    name = "signed receipts returned"
    if run.options.trust is None:
        return Check(name, SKIPPED, "the bus runs unsigned (no --key-directory)")
    assert run.tap is not None
    agency = run.options.agency
    refused = {str((s.envelope or {}).get("message_id")) for s in run.tap.errors}
    received = {
        str(s.envelope["message_id"]): s
        for s in run.tap.flow
        if s.envelope is not None
        and s.envelope.get("recipient") == agency
        and s.sender in AGENCIES
        and s.sender != agency
        and not is_receipt(str(s.envelope.get("type")))
        and str(s.envelope.get("message_id")) not in refused
    }
    acknowledged = {
        str((s.envelope.get("payload") or {}).get("message_id")): s
        for s in run.tap.sent_by(agency)
        if s.envelope is not None and is_receipt(str(s.envelope.get("type")))
    }
    missing = sorted(received[m].envelope["type"] for m in received if m not in acknowledged)
    if missing:
        return Check(name, FAILED, f"{len(missing)} of {len(received)} without a receipt: {', '.join(missing[:5])}")
    wrong = [
        m for m in received if acknowledged[m].envelope["payload"].get("message_hash") != _sha256(received[m].body)
    ]
    if wrong:
        return Check(name, FAILED, f"{len(wrong)} receipts do not hash the bytes the connector received")
    return Check(name, OK, f"{len(received)} transmissions acknowledged")


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _probes(run: Run) -> list[Check]:
    if run.probes.get("source") is None:
        why = f"no message reached {run.options.agency} to probe it with"
        return [Check(n, FAILED, why) for n in ("redelivery absorbed", "schema-violating message refused")]
    r = run.probes["redelivery"]
    found = []
    if r["replies_after"] != r["replies_before"] or r["steps_after"] != r["steps_before"]:
        found.append(
            Check(
                "redelivery absorbed",
                FAILED,
                f"{r['replies_after'] - r['replies_before']} more replies, "
                f"{r['steps_after'] - r['steps_before']} more steps after message {r['message_id']} came again",
            )
        )
    else:
        found.append(Check("redelivery absorbed", OK, f"{run.probes['source']['type']} twice, answered once"))
    found.append(_refusal(run, "schema", "schema-violating message refused"))
    if run.options.trust is None:
        found.append(Check("badly signed message refused", SKIPPED, "the bus runs unsigned (no --key-directory)"))
    else:
        found.append(_refusal(run, "signature", "badly signed message refused"))
    return found


def _refusal(run: Run, kind: str, name: str) -> Check:
    p = run.probes[kind]
    if p["replies"] or p["steps"]:
        return Check(name, FAILED, f"acted on it: {p['replies']} messages sent for dossier {p['dossier_id']}")
    if not p["filed"]:
        return Check(name, FAILED, f"message {p['message_id']} not found in the error queue")
    return Check(name, OK, f"no reply, in the error queue ({', '.join(p['reasons']) or 'refused'})")
