"""The scenario file of the acceptance contract, validated with a clear error naming the field."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import Field, ValidationError, field_validator, model_validator

from guichet.envelope import DOSSIER_ID_PATTERN, no_parent_step
from schemas.base import Model
from schemas.dossier import Dossier as FiledDossier
from schemas.dossier import Regime
from schemas.facts import Facts
from services.directory import Directory, UnconfiguredPlatform
from services.ofii.rules import competent_smoe
from services.single_window import applied_for_at_the_consulate


class ScenarioError(Exception):
    """A scenario that cannot run; the message names the field."""


class ScenarioDossier(FiledDossier):
    """A dossier as filed, with its id and the facts the simulated people follow; the regime is
    the scenario's."""

    # The envelope's own rule for a dossier id: a scenario cannot file what the bus would refuse.
    id: str = Field(pattern=DOSSIER_ID_PATTERN)
    facts: Facts = Facts()

    _id = field_validator("id")(classmethod(lambda cls, value: no_parent_step(value)))

    def filed(self, regime: str) -> FiledDossier:
        fields = self.model_dump(exclude={"id", "facts"})
        return FiledDossier.model_validate({**fields, "regime": regime})


class Scenario(Model):
    regime: Regime = "circulaire-2012"
    dossiers: list[ScenarioDossier] = Field(min_length=1)

    @model_validator(mode="after")
    def unique_ids(self) -> Scenario:
        seen = set()
        for index, dossier in enumerate(self.dossiers):
            if dossier.id in seen:
                raise ValueError(f"dossiers.{index}.id: {dossier.id!r} appears twice")
            seen.add(dossier.id)
        return self


def load_scenario(path: str | Path, directory: Directory) -> Scenario:
    try:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such file") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid JSON ({exc})") from None
    return parse_scenario(raw, directory, str(path))


def parse_scenario(raw: object, directory: Directory, origin: str = "scenario") -> Scenario:
    try:
        scenario = Scenario.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(root)"
        # A rule of ours speaks for itself, without pydantic's "Value error, " in front.
        message = (
            str(err["ctx"]["error"]) if err["type"] == "value_error" and "error" in err.get("ctx", {}) else err["msg"]
        )
        got = f" (got {err['input']!r})" if "input" in err and not isinstance(err["input"], (dict, list)) else ""
        raise ScenarioError(f"{origin}: invalid field {where}: {message}{got}") from None
    _check_platforms(scenario, directory, origin)
    return scenario


def _check_platforms(scenario: Scenario, directory: Directory, origin: str) -> None:
    for index, scenario_dossier in enumerate(scenario.dossiers):
        check_platform(scenario_dossier, index, scenario.regime, directory, origin)


def check_platform(
    scenario_dossier: ScenarioDossier, index: int, regime: str, directory: Directory, origin: str
) -> None:
    """2021: a dossier whose work authorisation falls to a platform the directory does not configure
    (the texts name one of the five) cannot run; say so before anything is filed."""
    dossier = scenario_dossier.filed(regime)
    if dossier.regime != "plateformes-2021" or applied_for_at_the_consulate(dossier, directory):
        return
    try:
        competent_smoe(dossier, directory)
    except UnconfiguredPlatform as exc:
        raise ScenarioError(
            f"{origin}: invalid field dossiers.{index}.employment_department: {exc} "
            f"(got {dossier.employment_department!r})"
        ) from None
