"""What the DT-OFII keeps of a dossier: as the single window, every step passes through it."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from guichet.timeutil import UTC
from schemas.base import Message
from schemas.titre import Card, FamilyDocument
from services.agency_state import AgencyState


class Step(BaseModel):
    step: str
    from_: str = Field(serialization_alias="from")
    to: str | None
    at: datetime
    deadline: datetime | None = None
    late: bool = False
    stamp: str | None = None
    subject: str | None = None  # an information to the employer: what it was about


class Alert(BaseModel):
    agency: str
    step: str
    kind: str
    deadline: datetime
    at: datetime


class OfiiDossier(AgencyState):
    route: str | None = None
    route_reason: str | None = None
    smoe: str | None = None
    prefecture: str | None = None
    outcome: str | None = None
    outcome_reason: str | None = None
    waiting_for: str | None = None
    deadlines: dict[str, datetime] = {}
    visa: str | None = None  # the visa's mention and dates, as the consul decided them (II.B)
    visa_valid_from: date | None = None
    visa_valid_until: date | None = None
    deposit_late: bool = False
    completed_late: bool = False
    documents: list[str] = []
    missing_documents: list[str] = []
    medical_visit_required: bool | None = None
    convoked: list[str] = []  # who the medical-visit convocation named (I.D, II.D)
    first_appointment_at: datetime | None = None
    second_appointment_at: datetime | None = None
    visit_done: bool = False
    second_convocation: bool = False
    handover_period_over: bool = False
    card: Card | None = None
    family_documents: list[FamilyDocument] = []
    recepisse: bool = False
    recepisse_until: date | None = None
    employer_tax_eur: int | None = None
    employer_tax_due_by: date | None = None
    returned_to_prefecture: bool = False
    steps: list[Step] = []
    alerts: list[Alert] = []

    def record(
        self,
        message: type[Message],
        at: datetime,
        deadline: datetime | None = None,
        stamp: str | None = None,
        subject: str | None = None,
    ) -> None:
        """A step of the flow, named and addressed as its message class declares it (STEP, SENDER, RECIPIENT)."""
        self._append(message.STEP, message.SENDER, message.RECIPIENT, at, deadline, stamp)
        self.steps[-1].subject = subject

    def record_act(self, step: str, by: str, at: datetime, deadline: datetime | None = None) -> None:
        """A step done inside one agency, with no message of its own (the préfecture's fabrication du titre)."""
        self._append(step, by, None, at, deadline, None)

    def recorded(self, step: str) -> bool:
        """Whether the dossier went through this step here."""
        return any(s.step == step for s in self.steps)

    def _append(
        self, step: str | None, from_: str, to: str | None, at: datetime, deadline: datetime | None, stamp: str | None
    ) -> None:
        if step is None:
            raise ValueError("a step is recorded from a message class that names its STEP")
        self.steps.append(
            Step(
                step=step,
                from_=from_,
                to=to,
                at=at,
                deadline=deadline,
                # On instants, not wall clocks: the hour repeated in October must not reorder them.
                late=bool(deadline and at.astimezone(UTC) > deadline.astimezone(UTC)),
                stamp=stamp,
            )
        )
