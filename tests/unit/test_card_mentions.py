"""The card's name as the texts of the dossier's regime print it (`titre.mention`, CONTRACT.md)."""

import pytest

from services.card_mentions import mention
from services.summary import summary
from tests.unit.test_summary import DIRECTORY, VIEW


@pytest.mark.parametrize(
    ("kind", "expected", "text"),
    [
        ("salarie_en_mission", "salarié en mission", "L.313-10 5°"),
        ("carte_bleue_europeenne", "carte bleue européenne", "L.313-10 6°"),
        ("competences_et_talents", "compétences et talents", "L.315-1"),
    ],
)
def test_circulaire_2012_cards_bear_the_mentions_of_the_ceseda_then_in_force(kind, expected, text):
    assert mention(kind, "circulaire-2012") == expected, text


@pytest.mark.parametrize(
    ("kind", "expected", "text"),
    [
        ("salarie_en_mission", "passeport talent", "L.313-20 3°, R.313-51"),
        ("competences_et_talents", "passeport talent", "L.313-20, R.313-41"),
        ("carte_bleue_europeenne", "passeport talent-carte bleue européenne", "L.313-20 2°, R.313-47"),
    ],
)
def test_ceseda_2021_names_the_cards_passeport_talent(kind, expected, text):
    assert mention(kind, "plateformes-2021") == expected, text


def test_a_card_the_texts_held_do_not_name_has_no_mention_rather_than_a_guess():
    assert mention("jeune_professionnel", "circulaire-2012") is None  # its bilateral agreement is not a source
    assert mention("jeune_professionnel", "plateformes-2021") is None
    assert mention(None, "circulaire-2012") is None and mention("salarie_en_mission", None) is None


def test_the_agent_reads_the_card_by_the_name_its_regime_gives_it():
    view = {**VIEW, "titre": {**VIEW["titre"], "mention": "passeport talent"}}
    assert any(
        line.startswith("  Titre : carte « passeport talent » n° T7800000001") for line in summary(view, DIRECTORY)
    )
