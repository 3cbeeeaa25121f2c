"""The French summary an agent reads, from the dossier object of the scenario contract."""

from services.summary import summary
from tests.conftest import DIRECTORY

VIEW = {
    "id": "D-1",
    "title": "salarie_en_mission",
    "route": "guichet_unique",
    "route_reason": "…",
    "outcome": "titre_a_retirer_en_prefecture",
    "outcome_reason": None,
    "missing_documents": [],
    "dt_ofii": "DT-OFII Montrouge",
    "consulat": "Consulat de France (IND)",
    "smoe": "92",
    "prefecture": "78",
    "convocations": ["2026-03-21T09:00:00+01:00", "2026-04-04T09:00:00+02:00"],
    "recepisse": True,
    "deposit_late": False,
    "returned_to_prefecture": True,
    "employer_tax_eur": None,
    "employer_tax_due_by": None,
    "deadline_breaches": ["transmission_smoe"],
    "family": [
        {"role": "spouse", "titre": "vie_privee_et_familiale", "valid_until": "2029-03-21"},
        {"role": "minor_child", "titre": "dcem_droit_commun"},
    ],
    "titre": {
        "kind": "salarie_en_mission",
        "number": "T7800000001",
        "valid_from": "2026-03-21",
        "valid_until": "2029-03-21",
        "fingerprints": False,
    },
    "steps": [
        {
            "step": "transmission_smoe",
            "from": "ofii",
            "to": "smoe",
            "at": "2026-01-12T09:00:00+01:00",
            "deadline": "2026-01-10T09:00:00+01:00",
            "late": True,
            "stamp": "guichet unique",
        }
    ],
}


def test_II_D_the_summary_says_in_french_what_became_of_the_card_and_of_the_family():
    lines = summary(VIEW, DIRECTORY)
    assert lines[:3] == [
        "Dossier D-1 - salarié en mission - guichet unique OFII",
        "  Issue : titre renvoyé à la préfecture, à y retirer",
        "  Services compétents : DT-OFII Montrouge, SMOE 92, Consulat de France (IND), Préfecture des Yvelines (78)",
    ]
    assert "  Visite médicale OFII : convocation le 21/03/2026 09:00, seconde convocation le 04/04/2026 09:00" in lines
    assert (
        "  Titre : salarié en mission n° T7800000001, valable du 21/03/2026 au 21/03/2029, produit sans empreinte"
        in lines
    )
    assert "  Conjoint : carte « vie privée et familiale » valable jusqu'au 21/03/2029" in lines
    assert "  Enfant mineur : DCEM selon le droit commun, en préfecture" in lines
    assert "  Récépissé délivré ; titre renvoyé à la préfecture ; délais dépassés : transmission au SMOE" in lines
    assert lines[-1].split() == [
        "transmission",
        "au",
        "SMOE",
        "DT-OFII",
        "SMOE",
        "12/01/2026",
        "09:00",
        "10/01/2026",
        "09:00",
        "EN",
        "RETARD",
    ]


def test_a_step_the_summary_has_no_label_for_is_still_readable():
    view = {**VIEW, "steps": [{**VIEW["steps"][0], "step": "nouvelle_etape", "late": False}]}
    assert summary(view, DIRECTORY)[-1].startswith("  nouvelle etape ")
