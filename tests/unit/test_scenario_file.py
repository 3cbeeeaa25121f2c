"""A scenario file is read a dossier at a time, and accepts and refuses exactly what the whole
document's validation does, with the same message naming the field."""

import io
import json

import pytest

from guichet_simulation.generate import write_scenario
from guichet_simulation.scenario_file import ScenarioFile
from services.scenario import ScenarioError, load_scenario
from tests.conftest import DIRECTORY, dossier


@pytest.mark.parametrize("indent", [None, 2])
def test_it_reads_the_same_scenario_as_the_whole_document(tmp_path, indent):
    out = io.StringIO()
    write_scenario(out, 60, seed=3)
    path = tmp_path / "s.json"
    path.write_text(json.dumps(json.loads(out.getvalue()), indent=indent, ensure_ascii=indent is None))
    whole, streamed = load_scenario(path, DIRECTORY), ScenarioFile(path, DIRECTORY)
    assert streamed.regime == whole.regime and len(streamed) == 60
    assert streamed.ids == [d.id for d in whole.dossiers]
    assert list(streamed.dossiers()) == whole.dossiers
    filed = [whole.dossiers[index].filed_on for _, index in streamed.filings()]
    assert filed == sorted(filed) and sorted(i for _, i in streamed.filings()) == list(range(60))


def test_equal_filing_dates_keep_the_scenario_order(tmp_path):
    path = tmp_path / "s.json"
    path.write_text(json.dumps({"dossiers": [dossier(id=f"D{i}", filed_on="2026-03-02") for i in range(5)]}))
    assert [index for _, index in ScenarioFile(path, DIRECTORY).filings()] == [0, 1, 2, 3, 4]


BAD = [
    {"dossiers": [dossier(id="A"), dossier(id="B"), dossier(id="C", title="pilote")]},
    {"dossiers": [dossier(id="A"), dossier(id="A")]},
    {"dossiers": []},
    {"regime": "1789", "dossiers": [dossier()]},
    {"dossiers": [dossier()], "extra": 1},
    {"dossier": [dossier()]},
    {"dossiers": {"id": "A"}},
    {"dossiers": [dossier(), 3]},
    [dossier()],
]


@pytest.mark.parametrize("document", BAD)
def test_a_bad_document_gives_the_whole_documents_error(tmp_path, document):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(document))
    with pytest.raises(ScenarioError) as whole:
        load_scenario(path, DIRECTORY)
    with pytest.raises(ScenarioError) as streamed:
        ScenarioFile(path, DIRECTORY)
    assert str(streamed.value) == str(whole.value)


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        '{"dossiers": [' + json.dumps(dossier()) + "]} trailing",
        '{"dossiers": [' + json.dumps(dossier()) + ",]}",
    ],
)
def test_text_that_is_not_one_json_document_is_refused_as_such(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="not valid JSON") as streamed:
        ScenarioFile(path, DIRECTORY)
    with pytest.raises(ScenarioError) as whole:
        load_scenario(path, DIRECTORY)
    assert str(streamed.value) == str(whole.value)


@pytest.mark.parametrize("text", ['{"dossiers": [' + json.dumps(dossier()) + "],}", "", "   "])
def test_more_text_that_is_not_json(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="not valid JSON"):
        ScenarioFile(path, DIRECTORY)
