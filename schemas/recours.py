"""2021 note: a refused work authorisation may be contested by a recours gracieux, which the SMOE
(the platform) re-examines; it travels through the DT-OFII like every other exchange."""

from __future__ import annotations

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
