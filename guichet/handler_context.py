"""What a handler sees and does: the time, the incoming envelope, the tasks it opens and closes,
and the messages it sends (guichet/agency.py writes them in the register)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import BaseModel

from guichet.envelope import Envelope
from guichet.message import Message


@dataclass
class Task:
    name: str
    opened_at: datetime
    deadline: datetime | None
    step: str | None = None
    warn_at: datetime | None = None
    watch: bool = True


@dataclass
class Outgoing:
    message: Message
    deadline: datetime | None
    due_at: datetime
    # A reminder to itself that only matters while this task is open: withdrawn when it closes.
    while_open: str | None = None


class Context:
    """What a handler may see and do: the time, the incoming envelope, and what it sends."""

    def __init__(
        self,
        envelope: Envelope,
        now: datetime,
        office: str | None,
        facts: dict[str, Any] | None,
        facts_model: type[BaseModel] | None = None,
        reference: Any = None,
    ):
        self.envelope = envelope
        # The reference data of the agency's definition (AgencyDefinition.reference), as its handlers read it.
        self.reference = reference
        self._facts_model = facts_model
        self.now = now
        self.office = office
        self.facts_raw = facts
        self.outgoing: list[Outgoing] = []
        self.opened: list[Task] = []
        self.closed: list[str] = []
        self.closing_dossier = False
        self._is_open: Callable[[str], bool] = lambda task: False

    @property
    def received_at(self) -> datetime:
        """When the message reached this agency, on its own clock: deadlines run from there
        (circulaire II); the sender's `sent_at` is kept in the journal, never believed. At its UTC
        offset, as instants travel on the bus: hours counted from it are real hours across a change
        of summer time."""
        return self.now.astimezone(timezone(self.now.utcoffset() or timedelta(0)))

    @property
    def facts(self) -> Any:
        """The facts the simulated people follow, as the agency's facts model reads them."""
        if self._facts_model is None:
            return self.facts_raw or {}
        return self._facts_model.model_validate(self.facts_raw or {})

    def send(
        self,
        message: Message,
        *,
        deadline: datetime | None = None,
        at: datetime | None = None,
        while_open: str | None = None,
    ) -> None:
        """Send now, or at `at` (a reminder to itself, or an act the simulated back-office plays).
        `while_open`: a reminder about that task, withdrawn unsent if the task closes before it is due."""
        self.outgoing.append(Outgoing(message, deadline, max(at or self.now, self.now), while_open))

    def await_act(
        self,
        task: str,
        deadline: datetime | None = None,
        *,
        step: str | None = None,
        warn_at: datetime | None = None,
        watch: bool = True,
    ) -> None:
        """Open a task for a person (agent, consul, worker): the back-office answers with a message.
        A legal deadline is watched: a warning before it and a breach at it, while the task is open."""
        self.opened.append(Task(task, self.now, deadline, step or task, warn_at, watch and deadline is not None))

    def is_open(self, task: str) -> bool:
        return self._is_open(task)

    def close(self, task: str) -> None:
        self.closed.append(task)

    def close_dossier(self) -> None:
        """The dossier reached its outcome here: every task still open ends, and with it every
        reminder still pending; tasks opened by the same handler afterwards still count."""
        self.closing_dossier = True
