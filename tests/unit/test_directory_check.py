"""The 2021 platforms (note 2021 on the transfer of the SMOE): the shipped directory names one of the
five interregional platforms, so the 2021 regime refuses what it does not route; an operator copies
the example directory, checks it with `guichet directory check`, and `scenario generate` writes only
dossiers the directory in use routes."""

import io
import json

import pytest

from guichet_cli.main import main
from guichet_simulation.generate import NothingRoutable, dossiers, write_scenario
from services.directory import EXAMPLE, Directory
from services.directory_check import check, routable
from services.scenario import parse_scenario
from tests.conftest import DIRECTORY


def unrouted(report: dict, regime: str) -> set[str]:
    return {item["department"] for item in report["regimes"][regime]["unrouted"]}


def test_note_2021_the_shipped_directory_leaves_five_of_the_eight_unrouted_and_says_so():
    report = check(DIRECTORY)
    assert not report["routed"] and not report["example"]
    assert unrouted(report, "circulaire-2012") == set()
    eight = {i["department"] for i in report["regimes"]["plateformes-2021"]["unrouted"] if i["single_window"]}
    assert eight == {"31", "59", "75", "78", "92"}  # 38, 63, 69: Clermont-Ferrand, the one the note names
    item = next(i for i in report["regimes"]["plateformes-2021"]["unrouted"] if i["department"] == "75")
    assert item["region"] == "Île-de-France" and "saisonnier" not in item["contracts"]  # Avignon takes those


def test_note_2021_the_example_directory_names_five_platforms_routes_everything_and_is_marked_example():
    example = Directory.from_file(EXAMPLE)
    platforms = example.data["platforms_2021"]
    assert len(platforms["interregional"]) == 5 and all(p["name"] for p in platforms["interregional"])
    assert platforms["interregional"][0] == {"name": "plateforme Clermont-Ferrand", "regions": ["Auvergne-Rhône-Alpes"]}
    report = check(example)
    assert report["routed"] and report["example"]
    assert "liste officielle" in example.data["_exemple"]


def test_annex_1_a_departement_of_the_single_window_without_its_dt_ofii_is_unrouted_in_2012():
    data = json.loads(json.dumps(DIRECTORY.data))
    data["dt_ofii"]["Lille"]["departments"] = []
    assert unrouted(check(Directory(data)), "circulaire-2012") == {"59"}


def test_note_2021_directory_check_exits_1_when_something_is_unrouted_0_otherwise_with_json(capsys, tmp_path):
    shipped = tmp_path / "annuaire.json"
    shipped.write_text(json.dumps(DIRECTORY.data))
    assert main(["directory", "check", str(shipped)]) == 1
    text = capsys.readouterr().out
    assert "Île-de-France : 75, 77, 78" in text and "dont du guichet unique : 75, 78, 92" in text
    assert main(["directory", "check", str(EXAMPLE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["routed"] and out["regimes"]["plateformes-2021"]["unrouted"] == []
    assert main(["directory", "check", str(tmp_path / "none.json")]) == 2


def test_note_2021_a_generated_2021_scenario_holds_only_dossiers_the_directory_routes():
    out = io.StringIO()
    write_scenario(out, 200, 5, "plateformes-2021", lambda item: routable(item, "plateformes-2021", DIRECTORY))
    scenario = parse_scenario(json.loads(out.getvalue()), DIRECTORY)  # refused if one were unrouted
    filed_online = [
        d for d in scenario.dossiers if d.contract.kind != "saisonnier" and d.title != "competences_et_talents"
    ]
    assert filed_online and not {d.employment_department for d in filed_online} & {"31", "59", "75", "78", "92"}
    with_example = io.StringIO()
    example = Directory.from_file(EXAMPLE)
    write_scenario(with_example, 200, 5, "plateformes-2021", lambda item: routable(item, "plateformes-2021", example))
    assert {"31", "59", "75", "78", "92"} <= {
        d["employment_department"] for d in json.loads(with_example.getvalue())["dossiers"]
    }


def test_note_2021_a_directory_routing_nothing_is_an_error_not_an_endless_draw():
    with pytest.raises(NothingRoutable):
        list(dossiers(1, 1, routable=lambda _: False))
