"""II.A.1: the work-authorisation request, from the employer through the DT-OFII to the SMOE."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.base import Message, Model
from schemas.dossier import ADDRESS_EXAMPLE, DOSSIER_EXAMPLE, Address, Dossier
from schemas.steps import Step

GUICHET_UNIQUE_STAMP = "guichet unique"
Route = Literal["guichet_unique", "smoe_droit_commun", "prefecture_residence"]


class DepotAutorisationTravail(Message):
    """The employer files the dossier with the DT-OFII (II.A.1)."""

    TYPE = "employeur.depot_autorisation_travail"
    SENDER, RECIPIENT, STEP = "employeur", "ofii", Step.DEPOT_AUTORISATION_TRAVAIL
    dossier: Dossier = Field(
        description="Demande d'autorisation de travail, filed by the employer directly with the DT-OFII (II.A.1)",
        examples=[DOSSIER_EXAMPLE],
    )


class TransmissionSmoe(Message):
    """The DT-OFII forwards the request, stamped 'guichet unique', to the SMOE of the
    département of effective employment, within 5 days (II.A.1); outside the single window,
    to the service competent by ordinary law, unstamped (I.E)."""

    TYPE = "ofii.transmission_smoe"
    SENDER, RECIPIENT, STEP = "ofii", "smoe", Step.TRANSMISSION_SMOE
    dossier: Dossier = Field(
        description="La demande d'autorisation de travail, as filed (II.A.1)", examples=[DOSSIER_EXAMPLE]
    )
    route: Route = Field(
        description="Voie: 'guichet_unique' (II.A.1), 'smoe_droit_commun' (I.E, R.5221-16 1° du code du travail: "
        "the territorially competent SMOE) or 'prefecture_residence' (I.E: étranger déjà présent)",
        examples=["guichet_unique", "smoe_droit_commun"],
    )
    smoe: str = Field(
        description="Service de main d'œuvre étrangère (SMOE) compétent (II.A.1): département code of the lieu "
        "effectif d'emploi, or the 2021 platform's name (note 2021 on the transfer of the SMOE)",
        examples=["92", "plateforme Clermont-Ferrand"],
    )
    stamp: Literal["guichet unique"] | None = Field(
        default=None,
        description="Tampon « guichet unique » on the Cerfa form (II.A.1); null outside the single window (I.E)",
        examples=["guichet unique"],
    )


class Criteria(Model):
    """The three criteria of the 2021 instruction."""

    situation_emploi_ok: bool = Field(
        description="Situation de l'emploi (opposabilité de la situation de l'emploi, OSE; note 2021 on the transfer "
        "of the SMOE): true when it allows the hire",
        examples=[True, False],
    )
    remuneration_ok: bool = Field(
        description="Conditions de rémunération (note 2021 on the transfer of the SMOE)", examples=[True, False]
    )
    employer_compliant: bool = Field(
        description="Respect par l'entreprise de ses obligations légales (note 2021 on the transfer of the SMOE)",
        examples=[True, False],
    )


CRITERIA_EXAMPLE = {"situation_emploi_ok": True, "remuneration_ok": True, "employer_compliant": True}


class WorkAuthorisationDecision(Message):
    """What every SMOE decision on a work authorisation carries, first instruction or recours."""

    favorable: bool = Field(
        description="Décision favorable when all three criteria are met (note 2021); after the visa favorable du "
        "contrat de travail the SMOE sends the documents back to the DT-OFII (II.A.1)",
        examples=[True, False],
    )
    criteria: Criteria = Field(
        description="Constats de l'instruction on the three criteria (note 2021)", examples=[CRITERIA_EXAMPLE]
    )
    reasons: list[str] = Field(
        default_factory=list,
        description="Motifs du refus: why a refusal was given, one per criterion not met",
        examples=[[], ["conditions de rémunération non respectées"]],
    )
    employer_tax_eur: int | None = Field(
        default=None,
        description="Taxe employeur the OFII collects (2021 note; D.311-18-2: 74, 210 or 300 euros by salary band for "
        "a temporary job of more than 3 and less than 12 months, 72 for a jeune professionnel); null "
        "where the texts fix no amount",
        examples=[210, 72],
    )
    secured_authorisation_sent_to: list[Literal["employeur", "travailleur"]] = Field(
        default_factory=list,
        description="2021 note: to whom the platform sent the secured authorisation by e-mail",
        examples=[["employeur", "travailleur"], []],
    )

    VERSION = 2

    @staticmethod
    def upcast_v1_v2(payload: dict) -> dict:
        """Version 1 came from a SMOE, which sent no secured authorisation."""
        return {**payload, "secured_authorisation_sent_to": []}


class DecisionAutorisationTravail(WorkAuthorisationDecision):
    """The SMOE decides within 10 days and sends the documents back to the DT-OFII (II.A.1)."""

    TYPE = "smoe.decision_autorisation_travail"
    SENDER, RECIPIENT, STEP = "smoe", "ofii", Step.DECISION_AUTORISATION_TRAVAIL


class ComplementAdresse(Message):
    """The employer completes the worker's address abroad (II.B)."""

    TYPE = "employeur.complement_adresse"
    SENDER, RECIPIENT = "employeur", "ofii"
    address_abroad: Address = Field(
        description="Adresse personnelle complète dans le pays d'origine (postale, téléphonique, électronique), "
        "as the DT-OFII asked for it (II.B)",
        examples=[ADDRESS_EXAMPLE],
    )


class InformationEmployeur(Message):
    """The DT-OFII tells the employer what became of the request (II.A.1, I.E)."""

    TYPE = "ofii.information_employeur"
    SENDER, RECIPIENT, STEP = "ofii", "employeur", Step.INFORMATION_EMPLOYEUR
    subject: Literal[
        "autorisation_accordee_dossier_transmis_consulat",
        "autorisation_refusee",
        "visa_refuse",
        "hors_guichet_unique",
        "adresse_a_completer",
    ] = Field(
        description="Objet: the authorisation granted and the dossier sent to the consulate (II.A.1), refused, the "
        "visa refused, the request outside the single window (I.E), or the address abroad to complete "
        "(II.B)",
        examples=["autorisation_accordee_dossier_transmis_consulat", "hors_guichet_unique"],
    )
    detail: str = Field(
        default="",
        description="Précision: the reasons of a refusal, why the request is outside the single window (I.C, I.E) or "
        "the parts of the address still missing (II.B); empty otherwise",
        examples=["conditions de rémunération non respectées", "phone, email"],
    )
