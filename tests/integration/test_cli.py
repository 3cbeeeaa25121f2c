"""The `guichet` command as an operator or a script uses it."""

import json
import os
import subprocess
import sys

import pytest

from services import directory as services_directory
from services.prefecture.rules import agdref_number
from tests.conftest import dossier


def guichet(*args, **kw):
    return subprocess.run(
        [sys.executable, "-m", "guichet_cli", *args], capture_output=True, text=True, timeout=120, **kw
    )


@pytest.mark.parametrize(
    "change,field",
    [
        ({"employment_department": "999"}, "dossiers.0.employment_department"),
        ({"title": "pilote"}, "dossiers.0.title"),
        ({"facts": {"medical_no_shows": 3}}, "dossiers.0.facts.medical_no_shows"),
        ({"facts": {"unknown_fact": 1}}, "dossiers.0.facts.unknown_fact"),
        ({"employer": {"siret": "123"}}, "dossiers.0.employer.siret"),
        ({"filed_on": "2026-13-45"}, "dossiers.0.filed_on"),
    ],
)
def test_an_invalid_scenario_exits_non_zero_with_one_line_naming_the_field(tmp_path, change, field):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"dossiers": [dossier(**change)]}))
    result = guichet("simulate", "--scenario", str(path), "--json")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0] and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "change,field,why",
    [
        (
            {"facts": {"smoe_instruction_days": 1e12}},
            "dossiers.0.facts.smoe_instruction_days",
            "less than or equal to 3650",
        ),
        ({"facts": {"ofii_consulat_hours": -1}}, "dossiers.0.facts.ofii_consulat_hours", "greater than or equal to 0"),
        ({"filed_on": "9999-12-20"}, "dossiers.0.filed_on", "2199-12-31"),
        (
            {"worker": {"surname": "DOE", "given_names": "Jane", "nationality": "IND", "date_of_birth": "0001-01-01"}},
            "dossiers.0.worker.date_of_birth",
            "1900-01-01",
        ),
        (
            {"contract": {"kind": "cdd", "monthly_gross_salary_eur": 2500}},
            "dossiers.0.contract.months",
            "a cdd contract states its length in months",
        ),
        (
            {"contract": {"kind": "saisonnier", "months": None, "monthly_gross_salary_eur": 2500}},
            "dossiers.0.contract.months",
            "a saisonnier contract states its length in months",
        ),
        (
            {"contract": {"kind": "cdi", "months": 12, "monthly_gross_salary_eur": 5200}},
            "dossiers.0.contract.months",
            "a cdi has no length in months",
        ),
        (
            {"contract": {"kind": "cdi", "months": None, "monthly_gross_salary_eur": "5200"}},
            "dossiers.0.contract.monthly_gross_salary_eur",
            "valid number",
        ),
        ({"facts": {"visa_granted": "yes"}}, "dossiers.0.facts.visa_granted", "valid boolean"),
        ({"already_in_france": 0}, "dossiers.0.already_in_france", "valid boolean"),
        ({"family": {"minor_children": "2"}}, "dossiers.0.family.minor_children", "valid integer"),
        (
            {"facts": {"titre_completion_days": 5}},
            "dossiers.0.facts.titre_completion_days",
            "applies only to an incomplete dossier",
        ),
    ],
)
def test_every_duration_date_and_type_is_bounded_at_validation(tmp_path, change, field, why):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"dossiers": [dossier(**change)]}))
    result = guichet("simulate", "--scenario", str(path), "--json")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and result.stdout == "" and len(lines) == 1
    assert f"invalid field {field}: " in lines[0] and why in lines[0]


def test_an_infinite_duration_is_refused_naming_the_field(tmp_path):
    path = tmp_path / "inf.json"
    path.write_text(
        json.dumps({"dossiers": [dossier(facts={"medical_no_shows": 0})]}).replace(
            '"medical_no_shows": 0', '"medical_no_shows": 0, "visa_instruction_days": Infinity'
        )
    )
    result = guichet("simulate", "--scenario", str(path), "--json")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"guichet simulate: {path}: invalid field dossiers.0.facts.visa_instruction_days: "
        "Input should be a finite number (got inf)"
    ]


def test_what_the_contract_allows_stays_valid(tmp_path):
    path = tmp_path / "ok.json"
    path.write_text(
        json.dumps(
            {
                "dossiers": [
                    dossier(id="CDI", contract={"kind": "cdi", "months": None, "monthly_gross_salary_eur": 5200}),
                    dossier(
                        id="SAISON", contract={"kind": "saisonnier", "months": 6, "monthly_gross_salary_eur": 2000}
                    ),
                    dossier(id="LATE-DOCS", facts={"titre_dossier_complete": False, "titre_completion_days": 3}),
                    dossier(
                        id="LIMIT",
                        filed_on="2199-12-31",
                        facts={
                            "smoe_instruction_days": 3650,
                            "visa_validity_days": 3650,
                            "prefecture_production_days": 3650,
                        },
                    ),
                ]
            }
        )
    )
    result = guichet("simulate", "--scenario", str(path), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert [d["id"] for d in out["dossiers"]] == ["CDI", "SAISON", "LATE-DOCS", "LIMIT"] and out["failed"] == []


def test_a_dossier_whose_message_ends_in_the_error_queue_makes_simulate_exit_1_naming_it(tmp_path):
    # A préfecture whose single list of documents is missing from the directory: the DT-OFII
    # cannot check the card dossier, and the message fails every retry.
    directory = json.loads(services_directory.DEFAULT.read_text())
    directory["prefecture_policy"]["78"] = {"single_list": None}
    (tmp_path / "annuaire.json").write_text(json.dumps(directory))
    path = tmp_path / "s.json"
    path.write_text(
        json.dumps(
            {"dossiers": [dossier(id="OK", residence_department="92"), dossier(id="BROKEN", residence_department="78")]}
        )
    )
    env = {**os.environ, "GUICHET_DIRECTORY": str(tmp_path / "annuaire.json")}
    result = guichet("simulate", "--scenario", str(path), "--json", env=env)
    assert result.returncode == 1
    out = json.loads(result.stdout)
    assert [f["id"] for f in out["failed"]] == ["BROKEN"]
    assert next(d for d in out["dossiers"] if d["id"] == "OK")["outcome"] == "titre_remis"
    named = [line for line in result.stderr.splitlines() if line.startswith("guichet simulate: dossier BROKEN: ")]
    assert len(named) == 1 and "error queue" in named[0] and "TypeError" in named[0]


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
    assert table.returncode == 0 and "Dossier D-1 - salarié en mission - guichet unique OFII" in table.stdout
    view = json.loads(guichet("dossier", "show", "D-1", "--data-dir", str(data), "--json").stdout)
    assert view["outcome"] == "titre_remis"
    timeline = guichet("dossier", "show", "D-1", "--data-dir", str(data)).stdout
    assert "ofii.transmission_smoe" in timeline and "10/01/2026 09:00" in timeline
    csv = guichet("report", "biometrie", "--month", "2026-03", "--data-dir", str(data), "--csv").stdout
    worker, spouse = view["titre"]["agdref_number"], agdref_number("78", "D-1/conjoint")
    assert csv.splitlines() == [
        "prefecture,mois,salarie_en_mission,competences_et_talents,carte_bleue_europeenne,vie_privee_et_familiale",
        f"78,2026-03,{worker},,,{spouse}",
    ]
    readable = guichet("report", "biometrie", "--month", "2026-03", "--data-dir", str(data)).stdout
    assert "Préfecture des Yvelines (78)" in readable and f"Vie privée et familiale       1   {spouse}" in readable
    assert view["titre"]["number"] not in readable + csv, "the table lists AGDREF numbers, not the cards' numbers"
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


def test_II_E_3_one_annex_2_file_per_month_and_prefecture(tmp_path):
    data, scenario = tmp_path / "data", tmp_path / "s.json"
    scenario.write_text(
        json.dumps(
            {
                "dossiers": [
                    dossier(id="YVELINES", residence_department="78"),
                    dossier(
                        id="TOULOUSE",
                        employment_department="31",
                        residence_department="31",
                        title="carte_bleue_europeenne",
                    ),
                ]
            }
        )
    )
    assert guichet("simulate", "--scenario", str(scenario), "--data-dir", str(data)).returncode == 0
    month = ["report", "biometrie", "--month", "2026-03", "--data-dir", str(data), "--csv"]
    toulouse = guichet(*month, "--prefecture", "31").stdout.splitlines()
    assert toulouse[1:] == [f"31,2026-03,,,{agdref_number('31', 'TOULOUSE')},"]
    both = guichet(*month).stdout.splitlines()
    assert both[1:] == [
        f"31,2026-03,,,{agdref_number('31', 'TOULOUSE')},",
        f"78,2026-03,{agdref_number('78', 'YVELINES')},,,",
    ]
    empty = guichet(
        "report", "biometrie", "--month", "2026-07", "--data-dir", str(data), "--csv", "--prefecture", "78"
    ).stdout.splitlines()
    assert empty[1:] == ["78,2026-07,,,,"]
    bad = guichet(*month, "--prefecture", "999")
    assert bad.returncode == 2 and "--prefecture" in bad.stderr


def test_an_agent_reads_the_same_french_summary_in_simulate_and_in_dossier_show(tmp_path):
    data, scenario = tmp_path / "data", tmp_path / "s.json"
    scenario.write_text(
        json.dumps(
            {
                "dossiers": [
                    dossier(id="CDD", contract={"kind": "cdd", "months": 6, "monthly_gross_salary_eur": 2500}),
                    dossier(id="REFUS", facts={"remuneration_ok": False}),
                    dossier(id="PIECES", facts={"titre_dossier_complete": False}),
                    dossier(id="MARSEILLE", employment_department="13", residence_department="13"),
                ]
            }
        )
    )
    table = guichet("simulate", "--scenario", str(scenario), "--data-dir", str(data))
    assert table.returncode == 0, table.stderr
    text = table.stdout
    assert "Dossier CDD - salarié en mission - guichet unique OFII" in text
    assert "  Issue : titre de séjour remis par l'OFII" in text
    assert (
        "  Services compétents : DT-OFII Montrouge, SMOE 92, Consulat de France (IND), "
        "Préfecture des Yvelines (78)" in text
    )
    assert "  Visite médicale OFII : convocation envoyée le 19/02/2026 09:00 pour le 21/03/2026 09:00" in text
    assert "  Taxe due par l'employeur : 210 €, à payer au plus tard le 25/04/2026" in text
    assert "  transmission au SMOE" in text and "07/01/2026 09:00  10/01/2026 09:00" in text
    assert "  Issue : autorisation de travail refusée\n  Motif du refus : conditions de rémunération" in text
    assert "  Issue : dossier de titre de séjour incomplet\n  Pièces manquantes : passeport" in text
    assert "  Motif : lieu effectif d'emploi (13) hors des huit départements du guichet unique (I.C)" in text
    assert "spouse" not in text and "->" not in text and "2026-01-07T" not in text
    for dossier_id in ("CDD", "REFUS", "PIECES", "MARSEILLE"):
        shown = guichet("dossier", "show", dossier_id, "--data-dir", str(data)).stdout
        block = shown.split("\n\nMessages du dossier")[0]
        assert block.startswith(f"Dossier {dossier_id} - ") and block in text


def test_II_A_1_II_B_II_D_the_agents_summary_says_what_is_awaited_told_and_due(tmp_path):
    """What a real agent needs on one page: the employer, the visa's dates, the deposit limit, the
    subject of each information to the employer, no consulate on a refused authorisation, and a
    préfecture outside annexe 1 named once (also in the annex 2 report)."""
    data, scenario = tmp_path / "data", tmp_path / "s.json"
    scenario.write_text(
        json.dumps(
            {
                "dossiers": [
                    dossier(id="MONTAUBAN", residence_department="82"),
                    dossier(id="REFUS", facts={"remuneration_ok": False}),
                ]
            }
        )
    )
    table = guichet("simulate", "--scenario", str(scenario), "--data-dir", str(data))
    assert table.returncode == 0, table.stderr
    montauban = guichet("dossier", "show", "MONTAUBAN", "--data-dir", str(data)).stdout
    assert "  Employeur : Exemple SA (SIRET 55208131766522)" in montauban
    assert ", Préfecture (82)\n" in montauban and "(82) (82)" not in montauban
    assert "  Visa : visa de long séjour « salarié en mission », valable du " in montauban
    assert "  Dossier de titre de séjour à déposer au plus tard le " in montauban
    assert "objet : autorisation accordée, dossier transmis au consulat" in montauban
    refus = guichet("dossier", "show", "REFUS", "--data-dir", str(data)).stdout
    services = next(line for line in refus.splitlines() if line.startswith("  Services compétents : "))
    assert "Consulat" not in services and "objet : autorisation de travail refusée" in refus
    readable = guichet("report", "biometrie", "--month", "2026-03", "--data-dir", str(data)).stdout
    assert "Préfecture (82)\n" in readable and "(82) (82)" not in readable


def test_the_directory_of_services_is_read_from_the_flag(tmp_path):
    """II.E.2: a préfecture that leaves the minor child's DCEM outside the single window, configured
    by the operator's own directory file given as --directory."""
    directory = json.loads(services_directory.DEFAULT.read_text())
    directory["prefecture_policy"]["78"] = {"dcem_in_guichet_unique": False}
    (tmp_path / "annuaire.json").write_text(json.dumps(directory))
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"dossiers": [dossier(id="CHILD", family={"spouse": False, "minor_children": 1})]}))
    shipped = json.loads(guichet("simulate", "--scenario", str(path), "--json").stdout)
    chosen = json.loads(
        guichet("simulate", "--scenario", str(path), "--json", "--directory", str(tmp_path / "annuaire.json")).stdout
    )
    assert [f["titre"] for f in shipped["dossiers"][0]["family"]] == ["dcem"]
    assert [f["titre"] for f in chosen["dossiers"][0]["family"]] == ["dcem_droit_commun"]


def test_scenario_generate_writes_a_file_simulate_runs_and_refuses_a_count_below_one(tmp_path):
    guichet_cmd = [sys.executable, "-m", "guichet_cli"]
    out = tmp_path / "g.json"
    made = subprocess.run(
        guichet_cmd + ["scenario", "generate", "--dossiers", "12", "--seed", "2", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert made.returncode == 0 and made.stdout == ""
    again = subprocess.run(
        guichet_cmd + ["scenario", "generate", "--dossiers", "12", "--seed", "2"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.stdout == out.read_text()
    result = subprocess.run(
        guichet_cmd + ["simulate", "--scenario", str(out), "--json"], capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0
    assert [d["id"] for d in json.loads(result.stdout)["dossiers"]] == [f"G-{n:06d}" for n in range(1, 13)]
    refused = subprocess.run(
        guichet_cmd + ["scenario", "generate", "--dossiers", "0"], capture_output=True, text=True, timeout=120
    )
    assert refused.returncode == 2 and "--dossiers" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
