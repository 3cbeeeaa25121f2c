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


class VeilleEcheance(Message):
    """A reminder an agency sends itself about one of its pending steps."""
    task: str
    step: str = Field(description="The step of the circular the deadline applies to")
    kind: AlertKind
    deadline: datetime


class AlerteDelai(Message):
    """To the DT-OFII's référent guichet unique: a deadline is near, or passed, on a pending step."""
    agency: str
    task: str
    step: str
    kind: AlertKind
    deadline: datetime


def _per_agency(base: type[Message], family: str, recipient: str | None) -> dict[str, type[Message]]:
    classes = {}
    for agency in AGENCIES:
        name = f"{base.__name__}{agency.capitalize()}"
        classes[agency] = type(name, (base,), {
            "__module__": __name__, "__doc__": base.__doc__,
            "TYPE": f"{agency}.{family}", "SENDER": agency, "RECIPIENT": recipient or agency,
        })
    return classes


VEILLE = _per_agency(VeilleEcheance, "veille.echeance", None)
ALERTE = _per_agency(AlerteDelai, "alerte.delai", "ofii")
