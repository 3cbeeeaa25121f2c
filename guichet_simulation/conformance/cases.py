"""The dossiers the kit files: one per conversation an agency takes part in, each a title and a
set of facts whose path through the four agencies is different."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from services.directory import Directory
from services.scenario import Scenario, parse_scenario

# Short instruction times: the whole flow of a dossier fits in a few legal weeks.
QUICK = {
    "smoe_instruction_days": 3,
    "visa_instruction_days": 4,
    "arrival_days_after_visa": 2,
    "titre_deposit_days_after_arrival": 1,
    "prefecture_production_days": 10,
}
WORKER = {
    "surname": "DOE",
    "given_names": "Jane",
    "nationality": "IND",
    "address_abroad": {
        "line": "12 MG Road",
        "city": "Bengaluru",
        "country": "IND",
        "phone": "+91 80 0000 0000",
        "email": "jane@example.org",
    },
}
ALL = ("ofii", "smoe", "consulat", "prefecture")


@dataclass(frozen=True)
class Case:
    name: str
    what: str
    agencies: tuple[str, ...]
    shape: dict[str, Any]
    facts: dict[str, Any]


CASES = (
    Case(
        "mission-famille",
        "salarié en mission with spouse and child: authorisation, visa, card handed over",
        ALL,
        {"title": "salarie_en_mission", "family": {"spouse": True, "minor_children": 1}},
        {},
    ),
    Case(
        "carte-bleue",
        "carte bleue européenne, Paris",
        ALL,
        {"title": "carte_bleue_europeenne", "employment_department": "75", "residence_department": "75"},
        {},
    ),
    Case(
        "competences-talents",
        "compétences et talents: the worker applies at the consulate",
        ("ofii", "consulat", "prefecture"),
        {"title": "competences_et_talents", "employment_department": "69", "residence_department": "69"},
        {},
    ),
    Case("visa-refuse", "the consulate refuses the visa", ("ofii", "smoe", "consulat"), {}, {"visa_granted": False}),
    Case(
        "autorisation-refusee",
        "the SMOE refuses the work authorisation (remuneration)",
        ("ofii", "smoe"),
        {},
        {"remuneration_ok": False},
    ),
    Case(
        "recours-gracieux",
        "refusal, then a favourable recours gracieux",
        ("ofii", "smoe", "consulat", "prefecture"),
        {},
        {"remuneration_ok": False, "recours_gracieux": True, "recours_favorable": True},
    ),
    Case(
        "titre-incomplet",
        "the card dossier is incomplete at the préfecture",
        ("ofii", "smoe", "consulat", "prefecture"),
        {},
        {"titre_dossier_complete": False},
    ),
    Case(
        "absent-visite", "two no-shows at the medical visit", ("ofii", "smoe", "consulat"), {}, {"medical_no_shows": 2}
    ),
)


def cases_for(agency: str) -> list[Case]:
    return [case for case in CASES if agency in case.agencies]


def dossier_id(run: str, case: Case) -> str:
    return f"CONF-{run}-{case.name}"


def scenario_for(agency: str, run: str, filed_on: date, directory: Directory) -> Scenario:
    """The dossiers of one run, filed on `filed_on`; `run` keeps the ids apart from any earlier run
    on the same bus, whose dossiers the connector under test may still hold."""
    dossiers = [
        {
            "id": dossier_id(run, case),
            "filed_on": filed_on.isoformat(),
            "title": "salarie_en_mission",
            "employment_department": "92",
            "residence_department": "78",
            "employer": {"siret": "55208131766522", "name": "Exemple SA"},
            "worker": WORKER,
            "contract": {"kind": "cdi", "months": None, "monthly_gross_salary_eur": 5200},
            **case.shape,
            "facts": {**QUICK, **case.facts},
        }
        for case in cases_for(agency)
    ]
    return parse_scenario({"dossiers": dossiers}, directory, "conformance scenario")
