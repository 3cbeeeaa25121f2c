"""The composition root (services/bootstrap.py): one place builds the message registry, the
directory of services and the four agencies, and each agency is handed exactly those."""

from __future__ import annotations

import json

from services.bootstrap import compose
from services.directory import Directory
from tests.conftest import DIRECTORY


def test_every_agency_is_handed_the_registry_and_the_directory_of_its_composition():
    guichet = compose(DIRECTORY)
    assert set(guichet.agencies) == {"ofii", "smoe", "consulat", "prefecture"}
    for definition in guichet.agencies.values():
        assert definition.messages is guichet.messages
        assert definition.reference is guichet.directory
    assert "consulat.decision_visa" in guichet.messages


def test_the_same_directory_gives_the_same_composition_and_another_one_its_own(tmp_path):
    assert compose(DIRECTORY) is compose(Directory.shipped())
    data = json.loads(json.dumps(DIRECTORY.data))
    data["prefectures"]["78"] = {**data["prefectures"].get("78", {}), "name": "Préfecture d'essai"}
    path = tmp_path / "annuaire.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    other = compose(Directory.from_file(path))
    assert other is not compose(DIRECTORY)
    assert other.agencies["prefecture"].reference.prefecture_name("78") == "Préfecture d'essai"
    # The composition built first is untouched: nothing is shared but what cannot change.
    assert compose(DIRECTORY).agencies["prefecture"].reference.prefecture_name("78") != "Préfecture d'essai"
