"""The `guichet` command as an operator or a script uses it."""
import json
import subprocess
import sys

import pytest

from tests.conftest import dossier


def guichet(*args, **kw):
    return subprocess.run([sys.executable, "-m", "guichet_tools", *args], capture_output=True, text=True, timeout=120, **kw)


@pytest.mark.parametrize("change,field", [
    ({"employment_department": "999"}, "dossiers.0.employment_department"),
    ({"title": "pilote"}, "dossiers.0.title"),
    ({"facts": {"medical_no_shows": 3}}, "dossiers.0.facts.medical_no_shows"),
    ({"facts": {"unknown_fact": 1}}, "dossiers.0.facts.unknown_fact"),
    ({"employer": {"siret": "123"}}, "dossiers.0.employer.siret"),
    ({"filed_on": "2026-13-45"}, "dossiers.0.filed_on"),
])
def test_an_invalid_scenario_exits_non_zero_with_one_line_naming_the_field(tmp_path, change, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"dossiers": [dossier(**change)]}))
    result = guichet("simulate", "--scenario", str(path), "--json")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in result.stderr


def test_a_scenario_that_is_not_json_or_missing_is_one_line_too(tmp_path):
    (tmp_path / "x.json").write_text("{not json")
    for path in (tmp_path / "x.json", tmp_path / "missing.json"):
        result = guichet("simulate", "--scenario", str(path))
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1


def test_simulate_table_dossier_show_and_annex_2_report_from_the_registers(tmp_path):
    data = tmp_path / "data"
    scenario = tmp_path / "s.json"
    scenario.write_text(json.dumps({"dossiers": [dossier(family={"spouse": True})]}))
    table = guichet("simulate", "--scenario", str(scenario), "--data-dir", str(data))
    assert table.returncode == 0 and "D-1  guichet_unique  ->  titre_remis" in table.stdout
    view = json.loads(guichet("dossier", "show", "D-1", "--data-dir", str(data), "--json").stdout)
    assert view["outcome"] == "titre_remis"
    timeline = guichet("dossier", "show", "D-1", "--data-dir", str(data)).stdout
    assert "ofii.transmission_smoe" in timeline and "2026-01-10T09:00:00+01:00" in timeline
    csv = guichet("report", "biometrie", "--month", "2026-03", "--data-dir", str(data), "--csv").stdout
    assert csv.splitlines() == ["mois,salarie_en_mission,competences_et_talents,carte_bleue_europeenne,"
                                "vie_privee_et_familiale", "2026-03,1,0,0,1"]
    readable = guichet("report", "biometrie", "--month", "2026-03", "--data-dir", str(data)).stdout
    assert "Vie privée et familiale" in readable and view["titre"]["number"] in readable
    unknown = guichet("dossier", "show", "NOPE", "--data-dir", str(data))
    assert unknown.returncode == 2 and "NOPE" in unknown.stderr


def test_schemas_export_writes_every_message_and_the_envelope(tmp_path):
    result = guichet("schemas", "export", "--out", str(tmp_path))
    assert result.returncode == 0
    index = json.loads((tmp_path / "index.json").read_text())
    types = {entry["type"] for entry in index}
    assert {"employeur.depot_autorisation_travail", "ofii.transmission_smoe", "prefecture.transmission_titre"} <= types
    schema = json.loads((tmp_path / "ofii.transmission_smoe.v1.schema.json").read_text())
    assert "dossier" in schema["properties"] and schema["title"] == "ofii.transmission_smoe"
    assert (tmp_path / "envelope.schema.json").exists()


def test_help_explains_every_command():
    for command in ("simulate", "run", "submit", "dossier", "report", "schemas", "health"):
        result = guichet(command, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout
