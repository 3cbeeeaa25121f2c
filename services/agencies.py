"""The four agencies by name, as the runtime receives them: each definition with the deadline
watch every agency runs (II.E.1) and, for the relay, the late-transmission alert. Built by the
composition root (services/bootstrap.py), which hands them the message registry and the directory."""

from __future__ import annotations

from dataclasses import replace

from guichet.agency import AgencyDefinition
from guichet.message import MessageRegistry
from schemas.base import AGENCIES
from schemas.facts import Facts
from schemas.veille import VEILLE
from services.deadline_watch import (
    deadline_signal,
    deadline_signals,
    late_transmission_alert,
    reminders_of,
    watch_deadline,
)
from services.directory import Directory
from services.parties import PARTIES
from services.state_machine import REFUSAL_REASONS, always, at


def definitions(directory: Directory, messages: MessageRegistry) -> dict[str, AgencyDefinition]:
    """The four agencies, each reading `directory`, the directory of services of this process, and
    decoding the message types of `messages`."""
    from services.consulat.service import definition as consulat
    from services.ofii.service import definition as ofii
    from services.prefecture.service import definition as prefecture
    from services.smoe.service import definition as smoe

    return {d.name: _watched(d, messages) for d in (build(directory) for build in (ofii, smoe, consulat, prefecture))}


def _watched(definition: AgencyDefinition, messages: MessageRegistry) -> AgencyDefinition:
    veille = VEILLE[definition.name]
    # II.E.1: the agency's own reminder of a pending step; the watch sees whether the task is still open.
    gate = definition.gate.with_rules({veille: at(always, "while the dossier is held", "II.E.1")})
    return replace(
        definition,
        facts_model=Facts,
        reminders=reminders_of(definition.name),
        gate=gate,
        handlers={**definition.handlers, veille: watch_deadline},
        late_alert=late_transmission_alert(PARTIES.relay) if definition.name == PARTIES.relay else None,
        observe=deadline_signal,
        signals=deadline_signals(definition.name, PARTIES.relay, messages),
        refusal_reasons=REFUSAL_REASONS,
        messages=messages,
        # The administrations acknowledge each other's transmissions with signed receipts; the
        # employers' portal and the ministry are outside parties, with an inbox and no journal here.
        receipts_with=frozenset(AGENCIES),
    )
