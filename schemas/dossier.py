"""What the employer files: the worker, the employer, the contract and the accompanying family."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from guichet.privacy import declare_personal_fields
from schemas.base import Model

Title = Literal[
    "salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne",
    "jeune_professionnel", "autre",
]
Regime = Literal["circulaire-2012", "plateformes-2021"]
Department = str  # validated by DEPARTMENT_PATTERN where it enters the bus
DEPARTMENT_PATTERN = r"^(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])$"


class Address(Model):
    """II.B: the worker's personal address in the country of origin. The DT-OFII sees that it is
    complete (postal, telephone, electronic) before the dossier goes to the consulate."""
    line: str | None = Field(default=None, min_length=1, description="Street address")
    city: str | None = Field(default=None, min_length=1)
    country: str | None = Field(default=None, min_length=2, max_length=3, description="ISO 3166 country code")
    phone: str | None = Field(default=None, min_length=3, description="Telephone number, with country prefix")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="E-mail address")

    def missing(self) -> list[str]:
        return [name for name in ("line", "city", "country", "phone", "email") if getattr(self, name) is None]


class Worker(Model):
    surname: str = Field(min_length=1)
    given_names: str = Field(min_length=1)
    nationality: str = Field(min_length=2, max_length=3, description="ISO 3166 country code")
    date_of_birth: date | None = None
    passport_number: str | None = Field(default=None, min_length=5, max_length=20)
    address_abroad: Address | None = Field(
        default=None, description="Required before the dossier goes to the consulate (II.B)")


class Employer(Model):
    siret: str = Field(pattern=r"^\d{14}$", description="SIRET number of the establishment")
    name: str = Field(min_length=1)


class Contract(Model):
    kind: Literal["cdi", "cdd", "saisonnier"]
    months: int | None = Field(default=None, ge=1, le=120, description="Length of a fixed term")
    monthly_gross_salary_eur: float = Field(gt=0)


class Family(Model):
    """I.D, II.E.2: the 'famille accompagnante', spouse and minor children."""
    spouse: bool = False
    minor_children: int = Field(default=0, ge=0, le=20)


class Dossier(Model):
    """The dossier as filed with the DT-OFII and as it travels between the administrations."""
    regime: Regime = "circulaire-2012"
    title: Title
    filed_on: date
    employment_department: Department = Field(pattern=DEPARTMENT_PATTERN)
    residence_department: Department = Field(pattern=DEPARTMENT_PATTERN)
    already_in_france: bool = False
    family: Family = Family()
    employer: Employer
    worker: Worker
    contract: Contract


# Personal data stays in payloads, never in log lines: the runtime's log processor redacts these fields.
declare_personal_fields({"surname", "given_names", "date_of_birth", "passport_number", "address_abroad",
                         "line", "city", "phone", "email", "worker"})
