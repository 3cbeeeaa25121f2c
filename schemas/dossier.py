"""What the employer files: the worker, the employer, the contract and the accompanying family."""
from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from schemas.base import Model

Title = Literal[
    "salarie_en_mission", "competences_et_talents", "carte_bleue_europeenne",
    "jeune_professionnel", "autre",
]
Regime = Literal["circulaire-2012", "plateformes-2021"]
Department = str  # validated by DEPARTMENT_PATTERN where it enters the bus
DEPARTMENT_PATTERN = r"^(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])$"
# Dates a dossier may carry: every date its flow leads to then stays within the calendar.
FIRST_FILING, LAST_FILING = date(2000, 1, 1), date(2199, 12, 31)
FIXED_TERMS = ("cdd", "saisonnier")


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
    date_of_birth: date | None = Field(default=None, ge=date(1900, 1, 1), le=LAST_FILING)
    passport_number: str | None = Field(default=None, min_length=5, max_length=20)
    address_abroad: Address | None = Field(
        default=None, description="Required before the dossier goes to the consulate (II.B)")


class Employer(Model):
    siret: str = Field(pattern=r"^\d{14}$", description="SIRET number of the establishment")
    name: str = Field(min_length=1)


class Contract(Model):
    # A number or a boolean written as a string is refused, not guessed at.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    kind: Literal["cdi", "cdd", "saisonnier"]
    months: int | None = Field(default=None, ge=1, le=120, validate_default=True,
                               description="Length of a fixed term (cdd, saisonnier); none for a cdi")
    monthly_gross_salary_eur: float = Field(gt=0, le=1_000_000, allow_inf_nan=False)

    @field_validator("months")
    @classmethod
    def length_of_a_fixed_term_only(cls, months: int | None, info: ValidationInfo) -> int | None:
        """A fixed term (cdd, seasonal work) states its length, on which the card's validity and the
        employer tax depend; an open-ended contract has none."""
        kind = info.data.get("kind")
        if kind in FIXED_TERMS and months is None:
            raise ValueError(f"a {kind} contract states its length in months")
        if kind == "cdi" and months is not None:
            raise ValueError("a cdi has no length in months (null or absent)")
        return months


class Family(Model):
    """I.D, II.E.2: the 'famille accompagnante', spouse and minor children."""
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    spouse: bool = False
    minor_children: int = Field(default=0, ge=0, le=20)


class Dossier(Model):
    """The dossier as filed with the DT-OFII and as it travels between the administrations."""
    regime: Regime = "circulaire-2012"
    title: Title
    filed_on: date = Field(ge=FIRST_FILING, le=LAST_FILING)
    employment_department: Department = Field(pattern=DEPARTMENT_PATTERN)
    residence_department: Department = Field(pattern=DEPARTMENT_PATTERN)
    already_in_france: bool = Field(default=False, strict=True)
    family: Family = Family()
    employer: Employer
    worker: Worker
    contract: Contract
