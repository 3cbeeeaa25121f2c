"""The simulation's document is written a dossier at a time; its bytes are those of json.dumps."""

import io
import json

import pytest

from guichet_simulation.output import write_document

RESULTS = [
    {"dossiers": [], "biometric_report": {}, "biometric_tables": {}, "errors": 0, "failed": []},
    {
        "dossiers": [
            {"id": "A-1", "convocations": [], "titre": None, "famille": [{"role": "conjoint", "n": 2}]},
            {"id": "Éloïse-2", "nested": {"deep": {"list": [1, 2.5, "ü"]}}, "empty": {}},
        ],
        "biometric_report": {"2026-03": {"salarie_en_mission": 1}},
        "biometric_tables": {"75": {"2026-03": {"salarie_en_mission": ["7512345678"]}}},
        "errors": 2,
        "failed": [{"id": "B", "agency": "ofii", "type": None, "error": "x\ny"}],
    },
]


@pytest.mark.parametrize("result", RESULTS)
def test_the_streamed_document_is_byte_for_byte_the_whole_one(result):
    out = io.StringIO()
    write_document(out, iter(result["dossiers"]), [(k, v) for k, v in result.items() if k != "dossiers"])
    assert out.getvalue() == json.dumps(result, ensure_ascii=False, indent=2) + "\n"


def test_values_given_as_callables_are_read_after_the_dossiers():
    order = []

    def dossiers():
        yield {"id": "A"}
        order.append("dossiers written")

    out = io.StringIO()
    write_document(out, dossiers(), [("errors", lambda: order.append("errors read") or 0)])
    assert order == ["dossiers written", "errors read"]
    assert json.loads(out.getvalue()) == {"dossiers": [{"id": "A"}], "errors": 0}
