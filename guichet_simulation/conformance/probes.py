"""What the kit sends the connector on purpose once the dossiers went their way: a message twice
with the same message_id, a schema-violating message and a badly signed one. Each is judged on
what the connector does on the bus: what it sends back, what it files in the error queue."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from guichet.bus import Bus
from guichet.clock import ScaledClock
from guichet.envelope import Envelope, new_message_id

if TYPE_CHECKING:
    from guichet_simulation.conformance.runner import Run

# How long, in legal days, the connector is given to answer a probe it should not answer.
SETTLE_DAYS = 5
SETTLE_MIN_SECONDS = 3.0


def probe(run: Run, bus: Bus, clock: ScaledClock, views: Callable[[], dict[str, dict[str, Any]]]) -> None:
    assert run.tap is not None
    agency = run.options.agency
    source = next(
        (
            s
            for d in run.dossiers
            for s in run.tap.flow
            if s.envelope is not None
            and s.envelope.get("dossier_id") == d.id
            and s.envelope.get("recipient") == agency
            and s.sender != agency
        ),
        None,
    )
    if source is None:
        run.probes["source"] = None
        return
    original = Envelope.model_validate_json(source.body)
    run.probes["source"] = {"type": original.type, "dossier_id": original.dossier_id}
    before_views = views()
    before = _effects(run, original)
    # A redelivery: the very envelope again, its message_id and signature unchanged.
    bus.publish_envelope(original)
    schema = _fresh(original, run, "schema", clock).model_copy(update={"payload": {"conformance": "not a field"}})
    if run.options.trust is not None:
        schema = run.options.trust.sign(schema)
    bus.publish_envelope(schema)
    probes = {"redelivery": original, "schema": schema}
    if run.options.trust is not None:
        signed = run.options.trust.sign(_fresh(original, run, "signature", clock))
        # The signature covers the envelope as it was signed: a payload changed afterwards breaks it.
        forged = signed.model_copy(update={"payload": {**signed.payload, **_changed(signed.payload)}})
        bus.publish_envelope(forged)
        probes["signature"] = forged
    settle = max(SETTLE_MIN_SECONDS, SETTLE_DAYS * 86400 / run.options.time_scale)
    end = time.monotonic() + settle
    refused = {"schema", "signature"} & probes.keys()
    while time.monotonic() < end:
        run.tap.drain()
        if all(_filed(run, probes[k]) for k in refused) and time.monotonic() > end - settle / 2:
            break
        time.sleep(0.05)
    run.tap.drain()
    after = _effects(run, original)
    after_views = views()
    run.probes["redelivery"] = {
        "message_id": str(original.message_id),
        "replies_before": before,
        "replies_after": after,
        "steps_before": len((before_views.get(original.dossier_id) or {}).get("steps", [])),
        "steps_after": len((after_views.get(original.dossier_id) or {}).get("steps", [])),
    }
    for kind in refused:
        message = probes[kind]
        run.probes[kind] = {
            "message_id": str(message.message_id),
            "dossier_id": message.dossier_id,
            "replies": len(run.tap.sent_by(agency, message.dossier_id)),
            "steps": len((after_views.get(message.dossier_id) or {}).get("steps", [])),
            "filed": _filed(run, message),
            "reasons": _reasons(run, message),
        }


def _fresh(original: Envelope, run: Run, kind: str, clock: ScaledClock) -> Envelope:
    """The same message for a dossier of its own, sent now: nothing the connector did before
    can make it look like a duplicate."""
    return original.model_copy(
        update={
            "message_id": new_message_id(),
            "dossier_id": f"CONF-{run.run_id}-sonde-{kind}",
            "sent_at": clock.now(),
            "deadline": clock.now() + timedelta(days=1) if original.deadline is not None else None,
            "signature": None,
            "key_id": None,
            "canonical": None,
        }
    )


def _changed(payload: dict[str, Any]) -> dict[str, Any]:
    return {next(iter(payload), "conformance"): "altered after signing"}


def _effects(run: Run, message: Envelope) -> int:
    assert run.tap is not None
    cause = str(message.message_id)
    return sum(1 for s in run.tap.sent_by(run.options.agency) if (s.envelope or {}).get("causation_id") == cause)


def _filed(run: Run, message: Envelope) -> bool:
    assert run.tap is not None
    return any(s.mentions(str(message.message_id)) for s in run.tap.errors)


def _reasons(run: Run, message: Envelope) -> list[str]:
    assert run.tap is not None
    return sorted(
        str(s.headers.get("x-guichet-error-reason"))
        for s in run.tap.errors
        if s.mentions(str(message.message_id)) and s.headers.get("x-guichet-error-reason")
    )
