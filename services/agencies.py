"""The four agencies by name, as the runtime receives them: each definition with the deadline
watch every agency runs (II.E.1) and, for the relay, the late-transmission alert."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from guichet.agency import AgencyDefinition
from guichet.message import MessageRegistry
from schemas.catalogue import message_registry
from schemas.facts import Facts
from schemas.veille import VEILLE
from services.deadline_watch import deadline_signal, late_transmission_alert, reminders_of, watch_deadline
from services.parties import PARTIES
from services.state_machine import always, at


@lru_cache(maxsize=1)
def definitions() -> dict[str, AgencyDefinition]:
    from services.consulat.service import DEFINITION as consulat
    from services.ofii.service import DEFINITION as ofii
    from services.prefecture.service import DEFINITION as prefecture
    from services.smoe.service import DEFINITION as smoe
    messages = message_registry()
    return {d.name: _watched(d, messages) for d in (ofii, smoe, consulat, prefecture)}


def _watched(definition: AgencyDefinition, messages: MessageRegistry) -> AgencyDefinition:
    veille = VEILLE[definition.name]
    # II.E.1: the agency's own reminder of a pending step; the watch sees whether the task is still open.
    gate = definition.gate.with_rules({veille: at(always, "while the dossier is held", "II.E.1")})
    return replace(definition, facts_model=Facts, reminders=reminders_of(definition.name), gate=gate,
                   handlers={**definition.handlers, veille: watch_deadline},
                   late_alert=late_transmission_alert(PARTIES.relay) if definition.name == PARTIES.relay else None,
                   observe=deadline_signal, messages=messages)
