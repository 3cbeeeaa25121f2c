"""2021 notes: the work authorisation is requested online from the platform, which acknowledges the
deposit and, when favourable, sends the secured authorisation to the employer and to the worker.

The online request enters the bus from the employers' portal; the acknowledgement and the secured
authorisation go out to the outside parties' queue, which a real portal reads.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from schemas.base import Message
from schemas.dossier import Dossier
from schemas.steps import Step

PLATFORM = Field(
    description="The platform instructing the request (2021 note)",
    examples=["plateforme Clermont-Ferrand", "plateforme Avignon"],
)


def online_request_example(title: str) -> dict:
    """A request as filed online in the Rhône (platform of Clermont-Ferrand), for the schemas' examples."""
    return {
        "regime": "plateformes-2021",
        "title": title,
        "filed_on": "2026-01-05",
        "employment_department": "69",
        "residence_department": "69",
        "employer": {"siret": "55208131766522", "name": "Exemple SA"},
        "worker": {"surname": "DOE", "given_names": "Jane", "nationality": "IND"},
        "contract": {"kind": "cdi", "monthly_gross_salary_eur": 5200},
    }


class DemandeAutorisationTravailEnLigne(Message):
    """The employer files the work-authorisation request online with the platform, instead of a
    deposit at the SMOE or the DT-OFII and the cerfa 15186*03 (2021 notes)."""

    TYPE = "employeur.demande_autorisation_travail_en_ligne"
    SENDER, RECIPIENT, STEP = "employeur", "smoe", Step.DEPOT_AUTORISATION_TRAVAIL
    dossier: Dossier = Field(
        description="The request as the employer filed it on the portal, with the worker, "
        "the contract and the accompanying family",
        examples=[online_request_example("carte_bleue_europeenne")],
    )


class AccuseDepot(Message):
    """The employer receives by e-mail the confirmation of the deposit (2021 note)."""

    TYPE = "smoe.accuse_depot"
    SENDER, RECIPIENT, STEP = "smoe", "employeur", Step.ACCUSE_DEPOT
    platform: str = PLATFORM
    deposited_at: datetime = Field(
        description="When the request was filed online", examples=["2026-01-05T09:00:00+01:00"]
    )
    channel: str = Field(default="e-mail", description="How the confirmation reaches the employer", examples=["e-mail"])


class InformationOfii(Message):
    """The platform lets the OFII know of the request it received: under the single window the
    DT-OFII stays the employer's one interface for the visa and the card (I.A, I.D) and its référent
    follows the deadlines (II.E.1); the OFII also collects the employer tax the platform tells it of
    (2021 note)."""

    TYPE = "smoe.information_ofii"
    SENDER, RECIPIENT = "smoe", "ofii"
    dossier: Dossier = Field(
        description="The request as filed online", examples=[online_request_example("salarie_en_mission")]
    )
    platform: str = PLATFORM
    deposited_at: datetime = Field(
        description="When the employer filed the request online", examples=["2026-01-05T09:00:00+01:00"]
    )
    acknowledged_at: datetime = Field(
        description="When the platform sent the employer the confirmation", examples=["2026-01-05T09:00:00+01:00"]
    )


class AutorisationTravailSecurisee(Message):
    """A favourable instruction: the employer and the beneficiary each receive the secured work
    authorisation by e-mail; the user joins it to the residence-card application (2021 note)."""

    authorisation_number: str = Field(
        description="The number of the secured authorisation", examples=["AT-69-2026-0001234"]
    )
    platform: str = PLATFORM
    granted_at: datetime = Field(
        description="When the platform granted the authorisation", examples=["2026-01-12T09:00:00+01:00"]
    )
    channel: str = Field(
        default="e-mail", description="How the authorisation reaches its recipient", examples=["e-mail"]
    )


class AutorisationTravailSecuriseeEmployeur(AutorisationTravailSecurisee):
    __doc__ = AutorisationTravailSecurisee.__doc__
    TYPE = "smoe.autorisation_travail_securisee.employeur"
    SENDER, RECIPIENT, STEP = "smoe", "employeur", Step.AUTORISATION_TRAVAIL_SECURISEE


class AutorisationTravailSecuriseeTravailleur(AutorisationTravailSecurisee):
    __doc__ = AutorisationTravailSecurisee.__doc__
    TYPE = "smoe.autorisation_travail_securisee.travailleur"
    SENDER, RECIPIENT, STEP = "smoe", "travailleur", Step.AUTORISATION_TRAVAIL_SECURISEE


SECURED_AUTHORISATION = {
    "employeur": AutorisationTravailSecuriseeEmployeur,
    "travailleur": AutorisationTravailSecuriseeTravailleur,
}
