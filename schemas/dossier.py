"""What the employer files: the worker, the employer, the contract and the accompanying family."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, ValidationInfo, field_validator

from guichet.privacy import declare_personal_fields
from schemas.base import Model

Title = Literal[
    "salarie_en_mission",
    "competences_et_talents",
    "carte_bleue_europeenne",
    "jeune_professionnel",
    "autre",
]
Regime = Literal["circulaire-2012", "plateformes-2021"]
Department = str  # validated by DEPARTMENT_PATTERN where it enters the bus
DEPARTMENT_PATTERN = r"^(0[1-9]|[1-8]\d|9[0-5]|2A|2B|97[1-6])$"
# Dates a dossier may carry: every date its flow leads to then stays within the calendar.
FIRST_FILING, LAST_FILING = date(2000, 1, 1), date(2199, 12, 31)
FIXED_TERMS = ("cdd", "saisonnier")

# Whole examples of the nested models, for the fields that carry one: fictitious people and firms.
ADDRESS_EXAMPLE = {
    "line": "12 MG Road",
    "city": "Bengaluru",
    "country": "IND",
    "phone": "+91 80 0000 0000",
    "email": "jane.doe@example.org",
}
WORKER_EXAMPLE = {
    "surname": "DOE",
    "given_names": "Jane",
    "nationality": "IND",
    "date_of_birth": "1990-04-12",
    "passport_number": "Z1234567",
    "address_abroad": ADDRESS_EXAMPLE,
}
EMPLOYER_EXAMPLE = {"siret": "12345678900017", "name": "Exemple SA"}
CONTRACT_EXAMPLE = {"kind": "cdi", "months": None, "monthly_gross_salary_eur": 5200.0}
FAMILY_EXAMPLE = {"spouse": True, "minor_children": 1}
DOSSIER_EXAMPLE = {
    "regime": "circulaire-2012",
    "title": "salarie_en_mission",
    "filed_on": "2026-01-05",
    "employment_department": "92",
    "residence_department": "78",
    "already_in_france": False,
    "family": FAMILY_EXAMPLE,
    "employer": EMPLOYER_EXAMPLE,
    "worker": WORKER_EXAMPLE,
    "contract": CONTRACT_EXAMPLE,
}


class Address(Model):
    """II.B: the worker's personal address in the country of origin. The DT-OFII sees that it is
    complete (postal, telephone, electronic) before the dossier goes to the consulate."""

    line: str | None = Field(
        default=None,
        min_length=1,
        description="Adresse postale (II.B): street and number in the country of origin",
        examples=["12 MG Road", "Calle Falsa 123"],
    )
    city: str | None = Field(
        default=None,
        min_length=1,
        description="Ville de l'adresse postale (II.B)",
        examples=["Bengaluru", "Montevideo"],
    )
    country: str | None = Field(
        default=None,
        min_length=2,
        max_length=3,
        description="Pays de l'adresse (II.B), ISO 3166 country code",
        examples=["IND", "URY"],
    )
    phone: str | None = Field(
        default=None,
        min_length=3,
        description="Coordonnées téléphoniques (II.B): telephone number, with country prefix",
        examples=["+91 80 0000 0000", "+598 2 000 0000"],
    )
    email: str | None = Field(
        default=None,
        pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
        description="Adresse électronique (II.B): e-mail address",
        examples=["jane.doe@example.org", "john.doe@example.com"],
    )

    def missing(self) -> list[str]:
        return [name for name in ("line", "city", "country", "phone", "email") if getattr(self, name) is None]


class Worker(Model):
    surname: str = Field(
        min_length=1, description="Nom du travailleur étranger, as in the passport", examples=["DOE", "ROE"]
    )
    given_names: str = Field(
        min_length=1,
        description="Prénoms du travailleur étranger, as in the passport",
        examples=["Jane", "John Richard"],
    )
    nationality: str = Field(
        min_length=2, max_length=3, description="Nationalité: ISO 3166 country code", examples=["IND", "BR"]
    )
    date_of_birth: date | None = Field(
        default=None,
        ge=date(1900, 1, 1),
        le=LAST_FILING,
        description="Date de naissance",
        examples=["1990-04-12", "1985-11-30"],
    )
    passport_number: str | None = Field(
        default=None,
        min_length=5,
        max_length=20,
        description="Numéro de passeport (5 to 20 characters)",
        examples=["Z1234567", "FX0000001"],
    )
    address_abroad: Address | None = Field(
        default=None,
        description="Adresse personnelle complète dans le pays d'origine (II.B): required before the dossier goes "
        "to the consulate",
        examples=[ADDRESS_EXAMPLE],
    )


class Employer(Model):
    siret: str = Field(
        pattern=r"^\d{14}$",
        description="Numéro SIRET de l'établissement employeur (14 digits)",
        examples=["12345678900017", "98765432100019"],
    )
    name: str = Field(
        min_length=1,
        description="Raison sociale de l'employeur, who files the request with the DT-OFII (II.A.1)",
        examples=["Exemple SA", "Démo Ingénierie SAS"],
    )


class Contract(Model):
    # A number or a boolean written as a string is refused, not guessed at.
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)
    kind: Literal["cdi", "cdd", "saisonnier"] = Field(
        description="Nature du contrat de travail (note 2021 on online filing): CDI (titre salarié), "
        "CDD (titre travailleur temporaire) or emploi saisonnier (titre saisonnier)",
        examples=["cdd", "saisonnier"],
    )
    months: int | None = Field(
        default=None,
        ge=1,
        le=120,
        validate_default=True,
        description="Durée du contrat à durée déterminée, in months; null for a CDI. A temporary job of more than 3 "
        "and less than 12 months bears the employer tax (D.311-18-2)",
        examples=[18, 6],
    )
    monthly_gross_salary_eur: float = Field(
        gt=0,
        le=1_000_000,
        allow_inf_nan=False,
        description="Salaire mensuel brut en euros: the conditions de rémunération the SMOE examines (note 2021), "
        "compared with the SMIC for the employer tax band (D.311-18-2)",
        examples=[5200.0, 2400.0],
    )

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
    spouse: bool = Field(
        default=False,
        description="Conjoint (famille accompagnante, I.D): receives a « vie privée et familiale » card of identical "
        "validity (II.E.2)",
        examples=[True, False],
    )
    minor_children: int = Field(
        default=0,
        ge=0,
        le=20,
        description="Enfants mineurs (famille accompagnante, I.D): each receives a document de circulation pour "
        "étranger mineur, DCEM (II.E.2)",
        examples=[1, 0],
    )


class Dossier(Model):
    """The dossier as filed with the DT-OFII and as it travels between the administrations."""

    regime: Regime = Field(
        default="circulaire-2012",
        description="Régime: 'circulaire-2012' (the SMOE of the département, II.A.1) or 'plateformes-2021' (the "
        "interregional platforms of the 2021 note on the transfer of the SMOE)",
        examples=["circulaire-2012", "plateformes-2021"],
    )
    title: Title = Field(
        description="Titre de séjour sollicité (I.B): salarié en mission (L.313-10 5°), compétences et talents "
        "(L.315-1), carte bleue européenne (L.313-10 6°); jeune professionnel (I.E); 'autre': any other "
        "professional title, outside the single window (I.E)",
        examples=["salarie_en_mission", "carte_bleue_europeenne"],
    )
    filed_on: date = Field(
        ge=FIRST_FILING,
        le=LAST_FILING,
        description="Date de dépôt du dossier auprès de la DT-OFII (II.A.1)",
        examples=["2026-01-05", "2026-09-14"],
    )
    employment_department: Department = Field(
        pattern=DEPARTMENT_PATTERN,
        description="Département du lieu effectif d'emploi (I.E, II.A.1): decides whether the single window applies "
        "(one of the eight départements of I.C) and the competent SMOE",
        examples=["92", "69"],
    )
    residence_department: Department = Field(
        pattern=DEPARTMENT_PATTERN,
        description="Département du lieu de résidence en France (II.C.1, R.311-10): decides the préfecture that "
        "issues the card",
        examples=["78", "69"],
    )
    already_in_france: bool = Field(
        default=False,
        strict=True,
        description="Étranger déjà présent sur le territoire français (I.E): not a primo-migrant, so no single "
        "window; the dossier goes to the préfecture of residence",
        examples=[False, True],
    )
    family: Family = Field(
        default=Family(),
        description="Famille accompagnante: spouse and minor children (I.D)",
        examples=[FAMILY_EXAMPLE],
    )
    employer: Employer = Field(
        description="L'employeur, who files the dossier with the DT-OFII (II.A.1)", examples=[EMPLOYER_EXAMPLE]
    )
    worker: Worker = Field(
        description="Le travailleur étranger qualifié, primo-migrant (I.B, I.E)", examples=[WORKER_EXAMPLE]
    )
    contract: Contract = Field(
        description="Le contrat de travail, which the SMOE stamps (visa du contrat de travail, II.A.1)",
        examples=[CONTRACT_EXAMPLE],
    )


# Personal data stays in payloads, never in log lines: the runtime's log processor redacts these fields.
declare_personal_fields(
    {
        "surname",
        "given_names",
        "date_of_birth",
        "passport_number",
        "address_abroad",
        "line",
        "city",
        "phone",
        "email",
        "worker",
    }
)
