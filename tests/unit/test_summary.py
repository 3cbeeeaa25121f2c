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
    assert (
        "  Visite médicale OFII : convocation pour le 21/03/2026 09:00, seconde convocation pour le 04/04/2026 09:00"
        in lines
    )
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


def step(name, at, to="employeur", **extra):
    return {"step": name, "from": "ofii", "to": to, "at": at, "deadline": None, "late": False, "stamp": None} | extra


def test_annex_1_a_prefecture_outside_annex_1_is_named_once_with_its_departement():
    lines = summary({**VIEW, "prefecture": "82"}, DIRECTORY)
    assert lines[2].endswith(", Préfecture (82)") and "(82) (82)" not in lines[2]
    assert DIRECTORY.prefecture_label("78") == "Préfecture des Yvelines (78)"


def test_II_A_1_an_open_dossier_says_what_it_awaits():
    lines = summary({**VIEW, "outcome": "en_cours", "waiting_for": "decision_visa"}, DIRECTORY)
    assert lines[1] == "  Issue : en cours - en attente de la décision du consulat sur le visa"


def test_II_A_1_each_information_to_the_employer_shows_its_subject():
    steps = [step("information_employeur", "2026-01-20T09:00:00+01:00", subject="autorisation_refusee")]
    lines = summary({**VIEW, "outcome": "autorisation_travail_refusee", "steps": steps}, DIRECTORY)
    assert lines[-1].endswith("objet : autorisation de travail refusée")


def test_note_2021_the_platform_is_named_as_the_2021_texts_name_it_never_smoe():
    view = {**VIEW, "regime": "plateformes-2021", "smoe": "plateforme Clermont-Ferrand", "deadline_breaches": []}
    lines = summary(view, DIRECTORY)
    assert "plateforme Clermont-Ferrand" in lines[2] and "SMOE" not in lines[2]
    assert lines[-1].split()[3:5] == ["DT-OFII", "plateforme"]


def test_II_A_1_a_refused_work_authorisation_lists_no_consulate_as_competent():
    lines = summary({**VIEW, "outcome": "autorisation_travail_refusee"}, DIRECTORY)
    assert "Consulat" not in lines[2]
    assert "Consulat de France (IND)" in summary({**VIEW, "outcome": "visa_refuse"}, DIRECTORY)[2]


def test_II_D_each_convocation_shows_its_appointment_beside_the_day_it_was_sent():
    steps = [
        step("convocation_visite_medicale", "2026-02-19T09:00:00+01:00", to="travailleur"),
        step("seconde_convocation", "2026-03-21T10:00:00+01:00", to="travailleur"),
    ]
    lines = summary({**VIEW, "steps": steps}, DIRECTORY)
    assert (
        "  Visite médicale OFII : convocation envoyée le 19/02/2026 09:00 pour le 21/03/2026 09:00, "
        "seconde convocation envoyée le 21/03/2026 10:00 pour le 04/04/2026 09:00"
    ) in lines


def test_II_B_II_C_the_deposit_limit_the_visas_dates_the_recepisses_validity_and_the_employer():
    view = {
        **VIEW,
        "employer": {"name": "Exemple SA", "siret": "55208131766522"},
        "visa": {
            "mention": "visa de long séjour « salarié en mission »",
            "valid_from": "2026-02-01",
            "valid_until": "2027-02-01",
        },
        "deposit_limit": "2026-12-01T23:59:59+01:00",
        "recepisse_until": "2026-07-19",
    }
    lines = summary(view, DIRECTORY)
    assert "  Employeur : Exemple SA (SIRET 55208131766522)" in lines
    assert "  Visa : visa de long séjour « salarié en mission », valable du 01/02/2026 au 01/02/2027" in lines
    assert "  Dossier de titre de séjour à déposer au plus tard le 01/12/2026" in lines
    assert any(line.startswith("  Récépissé délivré, valable jusqu'au 19/07/2026 ;") for line in lines)
