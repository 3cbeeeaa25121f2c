"""A generated scenario of varied dossiers, for trainers, audits and the simulator's benchmark
(scripts/bench-simulate): valid, seeded, and mixing every title, twelve départements, families,
refusals, incomplete dossiers, no-shows and slow préfectures over a year."""

import io
import json
from collections import Counter

from guichet_simulation.generate import write_scenario
from services.scenario import parse_scenario
from tests.conftest import DIRECTORY


def generated(count: int, seed: int) -> str:
    out = io.StringIO()
    write_scenario(out, count, seed)
    return out.getvalue()


def test_a_generated_scenario_is_valid_seeded_and_varied():
    text = generated(600, 3)
    assert text == generated(600, 3) and text != generated(600, 4)
    scenario = parse_scenario(json.loads(text), DIRECTORY)
    ds = scenario.dossiers
    assert {d.title for d in ds} == {
        "salarie_en_mission",
        "competences_et_talents",
        "carte_bleue_europeenne",
        "jeune_professionnel",
        "autre",
    }
    departments = {d.employment_department for d in ds}
    assert len(departments) == 12 and {"31", "38", "59", "63", "69", "75", "78", "92"} <= departments
    assert any(d.family.spouse for d in ds) and any(d.family.minor_children for d in ds)
    facts = [d.facts for d in ds]
    assert any(not f.employer_compliant for f in facts) and any(not f.visa_granted for f in facts)
    incomplete = [f for f in facts if not f.titre_dossier_complete]
    assert any(f.titre_completion_days is None for f in incomplete)
    assert any(f.titre_completion_days is not None for f in incomplete)
    assert Counter(f.medical_no_shows for f in facts).keys() >= {0, 1, 2}
    assert any(f.prefecture_production_days == 70 for f in facts)
    filed = sorted(d.filed_on for d in ds)
    assert (filed[-1] - filed[0]).days > 300
