"""A refused work authorisation may be contested by a recours gracieux, which the SMOE or the
platform that refused re-examines. Under the circular it travels through the DT-OFII like every
other exchange of the single window; under the 2021 notes the platform instructs the recours
("l'instruction des demandes de recours gracieux") and the employer files it with the platform."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from schemas.autorisation_travail import CRITERIA_EXAMPLE, Criteria, WorkAuthorisationDecision
from schemas.base import Message
from schemas.steps import Step

RECOURS_ARGUMENTS_EXAMPLE = "Le salaire proposé a été porté à 2 900 euros bruts mensuels ; avenant au contrat joint."


class RecoursGracieux(Message):
    """The employer asks the SMOE to reconsider its refusal."""

    TYPE = "employeur.recours_gracieux"
    SENDER, RECIPIENT, STEP = "employeur", "ofii", Step.RECOURS_GRACIEUX
    arguments: str = Field(
        default="",
        description="Arguments du recours gracieux: what the employer puts forward (note 2021)",
        examples=[RECOURS_ARGUMENTS_EXAMPLE],
    )


class RecoursGracieuxPlateforme(Message):
    """2021 note: the employer files the recours gracieux with the platform that refused."""

    TYPE = "employeur.recours_gracieux_plateforme"
    SENDER, RECIPIENT, STEP = "employeur", "smoe", Step.RECOURS_GRACIEUX
    arguments: str = Field(
        default="",
        description="Arguments du recours gracieux: what the employer puts forward (note 2021)",
        examples=[RECOURS_ARGUMENTS_EXAMPLE],
    )


class TransmissionRecours(Message):
    """The DT-OFII forwards the recours to the SMOE that refused."""

    TYPE = "ofii.transmission_recours"
    SENDER, RECIPIENT, STEP = "ofii", "smoe", Step.TRANSMISSION_RECOURS
    arguments: str = Field(
        default="",
        description="Arguments du recours gracieux, as the employer filed them",
        examples=[RECOURS_ARGUMENTS_EXAMPLE],
    )


class ReexamenTermine(Message):
    """The SMOE agent has re-examined the three criteria."""

    TYPE = "smoe.agent.reexamen_termine"
    SENDER, RECIPIENT = "smoe", "smoe"
    criteria: Criteria = Field(
        description="Constats of the re-examination on the three criteria (note 2021)", examples=[CRITERIA_EXAMPLE]
    )


class DecisionRecours(WorkAuthorisationDecision):
    """The SMOE's decision on the recours gracieux, back to the DT-OFII."""

    TYPE = "smoe.decision_recours"
    SENDER, RECIPIENT, STEP = "smoe", "ofii", Step.DECISION_RECOURS
    recours_filed_at: datetime | None = Field(
        default=None,
        description="2021 note: when the employer filed the recours with the platform, which the DT-OFII did not "
        "see; null for a recours that came through the DT-OFII",
        examples=["2026-01-20T09:00:00+01:00", None],
    )

    VERSION = 3

    @staticmethod
    def upcast_v2_v3(payload: dict) -> dict:
        """Version 2 answered a recours that came through the DT-OFII."""
        return {**payload, "recours_filed_at": None}
