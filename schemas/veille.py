"""The deadline watch (circulaire 2012, II; II.E.1): every agency reminds itself shortly before
and at each legal deadline of a pending step, and tells the DT-OFII's référent while the step is
still pending. The dossier goes on either way."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from schemas.base import AGENCIES, Message

# avertissement: the deadline is near; depassement: it passed with the step pending;
# transmission_en_retard: a transmission waited in its recipient's queue past its deadline.
AlertKind = Literal["avertissement", "depassement", "transmission_en_retard"]
# A pending task and the step of the circular it carries out, as the agencies name them.
TASK_EXAMPLES = ["instruction", "transmission_smoe"]
STEP_EXAMPLES = ["decision_autorisation_travail", "transmission_smoe"]


class VeilleEcheance(Message):
    """A reminder an agency sends itself about one of its pending steps."""

    task: str = Field(
        description="Tâche en attente: the agency's pending task the reminder is about", examples=TASK_EXAMPLES
    )
    step: str = Field(description="Étape de la circulaire the deadline applies to", examples=STEP_EXAMPLES)
    kind: AlertKind = Field(
        description="Nature du rappel: avertissement, the deadline is near; depassement, it "
        "passed with the step still pending",
        examples=["avertissement", "depassement"],
    )
    deadline: datetime = Field(
        description="Échéance légale of the step, e.g. the 10 days of the SMOE's decision (II.A.1)",
        examples=["2026-01-20T23:59:59+01:00"],
    )


class AlerteDelai(Message):
    """To the DT-OFII's référent guichet unique: a deadline is near, or passed, on a pending step."""

    agency: str = Field(
        description="Administration whose step is pending; the alert goes to the DT-OFII's "
        "référent guichet unique (II.E.1)",
        examples=["smoe", "prefecture"],
    )
    task: str = Field(description="Tâche en attente: that administration's pending task", examples=TASK_EXAMPLES)
    step: str = Field(description="Étape de la circulaire the deadline applies to", examples=STEP_EXAMPLES)
    kind: AlertKind = Field(
        description="Nature de l'alerte: avertissement, the deadline is near; depassement, it passed with the step "
        "pending; transmission_en_retard, a transmission waited in its recipient's queue past its deadline",
        examples=["depassement", "transmission_en_retard"],
    )
    deadline: datetime = Field(
        description="Échéance légale of the step, e.g. the 10 days of the SMOE's decision (II.A.1)",
        examples=["2026-01-20T23:59:59+01:00"],
    )


def _per_agency(base: type[Message], family: str, recipient: str | None) -> dict[str, type[Message]]:
    classes = {}
    for agency in AGENCIES:
        name = f"{base.__name__}{agency.capitalize()}"
        classes[agency] = type(
            name,
            (base,),
            {
                "__module__": __name__,
                "__doc__": base.__doc__,
                "TYPE": f"{agency}.{family}",
                "SENDER": agency,
                "RECIPIENT": recipient or agency,
            },
        )
    return classes


VEILLE = _per_agency(VeilleEcheance, "veille.echeance", None)
ALERTE = _per_agency(AlerteDelai, "alerte.delai", "ofii")
