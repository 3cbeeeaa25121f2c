"""What an agency is, as the runtime receives it: a state model, a dict of handlers by message
class, and optionally the simulated actors that play its back-office from a scenario's facts, the
reminders that watch its deadlines, the alert a late transmission raises, its state machine and the
message types it decodes. The runtime imports no agency: each reaches it as one of these."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel

from guichet.envelope import Envelope
from guichet.handler_context import Context, Task
from guichet.message import Message, MessageRegistry
from guichet.receipt import Gate

if TYPE_CHECKING:
    from guichet.metrics import DeadlineSignal, Observe


Handler = Callable[[Message, Context, Any], None]


class Actors(Protocol):
    def play(self, task: Task, state: Any, facts: Any) -> list[tuple[Message, datetime]]: ...


# The messages an agency schedules to itself to watch a task's deadline, each with when it is due.
Reminders = Callable[[Task], list[tuple[Message, datetime]]]
# The alert a late transmission raises, built by the relaying agency; None when none is due.
LateAlert = Callable[[Envelope, Message], Message | None]


@dataclass
class AgencyDefinition:
    name: str
    state_model: type[BaseModel]
    handlers: dict[type[Message], Handler]
    office: Callable[[Any], str | None] = lambda state: None
    actors: Actors | None = None
    # The messages that open a dossier at this agency; any other one must find the dossier there.
    opening: tuple[type[Message], ...] = ()
    facts_model: type[BaseModel] | None = None
    reminders: Reminders | None = None
    late_alert: LateAlert | None = None
    # Reads each message the agency sends and names the deadline alert it is, if any (guichet/metrics.py).
    observe: Observe | None = None
    # The deadline alerts it may send, and why its state machine may refuse a message: their metrics
    # read 0 from the start, so that the first one after a restart raises its alert (guichet/metrics.py).
    signals: tuple[DeadlineSignal, ...] = ()
    refusal_reasons: tuple[str, ...] = ()
    # The agency's state machine: which message it lets in, at which step, from whom (guichet/receipt.py).
    gate: Gate | None = None
    # The office a simulated outside party acts from for this dossier (an employer: its SIRET).
    act_office: Callable[[Message, Any], str | None] = lambda act, state: "simulation"
    # The message types the agency decodes (the whole contract, so that another agency's message is
    # refused as not for this one); None: its handlers' types alone.
    messages: MessageRegistry | None = None
    # The reference data the handlers consult (ctx.reference); for the guichet unique, the directory
    # of services. The runtime never reads it.
    reference: Any = None
    # How the agency describes a dossier's state to the supervision service, in its audit copies
    # (guichet/audit_copy.py): what the console shows of it. None: its journal and tasks alone.
    supervision: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # The parties it exchanges signed receipts with (guichet/delivery_receipts.py): it acknowledges
    # what they send it, and keeps what they acknowledge of its own messages. Only with keys.
    receipts_with: frozenset[str] = frozenset()

    @property
    def types(self) -> list[str]:
        return [cls.TYPE for cls in self.handlers]
