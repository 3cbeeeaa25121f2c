"""II.A.1 and II.B: the dossier at the consulate and the long-stay visa."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from schemas.autorisation_travail import CRITERIA_EXAMPLE, Criteria
from schemas.base import Message
from schemas.dossier import DOSSIER_EXAMPLE, FAMILY_EXAMPLE, Dossier, Family
from schemas.steps import Step


class TransmissionConsulat(Message):
    """The DT-OFII sends the dossier, with the family's documents, to the consulate of the
    worker's residence within 48 hours, stamped 'guichet unique' (II.A.1, II.B)."""

    TYPE = "ofii.transmission_consulat"
    SENDER, RECIPIENT, STEP = "ofii", "consulat", Step.TRANSMISSION_CONSULAT
    dossier: Dossier = Field(
        description="Le dossier, sent by electronic means to the consulate of the worker's place of residence (II.A.1)",
        examples=[DOSSIER_EXAMPLE],
    )
    family: Family = Field(
        description="Documents relatifs à la famille accompagnante (II.A.1, II.B)", examples=[FAMILY_EXAMPLE]
    )
    stamp: Literal["guichet unique"] = Field(
        default="guichet unique",
        description="Mention « guichet unique » by a stamp, so that the consulate identifies the dossier on receipt "
        "(II.B)",
        examples=["guichet unique"],
    )
    work_authorisation: Criteria | None = Field(
        default=None,
        description="Optional: the SMOE's favourable findings on the three criteria (note 2021), when an "
        "autorisation de travail was needed (II.A.1; none for compétences et talents, II.A.2)",
        examples=[CRITERIA_EXAMPLE],
    )


class DecisionVisa(Message):
    """The consulate decides on the worker's visa and the family's, within 15 days (II.B);
    the DT-OFII is told so that it can receive the card dossier on arrival."""

    TYPE = "consulat.decision_visa"
    SENDER, RECIPIENT, STEP = "consulat", "ofii", Step.DECISION_VISA
    granted: bool = Field(description="Visa de long séjour délivré (II.B)", examples=[True, False])
    visa: str | None = Field(
        default=None,
        description="Mention du visa de long séjour, e.g. 'visa de long séjour « salarié en mission »' (no "
        "VLS-TS: R.311-3 gives none to the single window's titles); « CESEDA L.315-1 » for compétences et "
        "talents (II.A.2)",
        examples=["visa de long séjour « salarié en mission »", "CESEDA L.315-1"],
    )
    valid_from: date | None = Field(default=None, description="Début de validité du visa", examples=["2026-02-05"])
    valid_until: date | None = Field(
        default=None,
        description="Fin de validité du visa: the card dossier is due at the latest two months before (II.C.1)",
        examples=["2027-02-05"],
    )
    family: Family = Field(
        default=Family(),
        description="Members of the famille accompagnante whose visas were decided with the "
        "worker's: spouse and minor children (II.B)",
        examples=[FAMILY_EXAMPLE],
    )
    reason: str | None = Field(
        default=None, description="Motif du refus de visa; null when granted", examples=["refus consulaire"]
    )
