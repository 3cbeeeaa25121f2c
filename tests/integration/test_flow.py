"""Whole dossiers through the four agencies, once on the in-memory transport and once on RabbitMQ.

Each test names the paragraph of the circular it checks.
"""

from guichet_simulation.harness import Simulation
from tests.conftest import dossier, scenario


def run(broker, *dossiers, regime="circulaire-2012"):
    result = Simulation(scenario(*dossiers, regime=regime), broker_url=broker).run()
    assert result["errors"] == 0
    return {d["id"]: d for d in result["dossiers"]}, result


def steps(d):
    return [s["step"] for s in d["steps"]]


def test_II_A_1_to_II_D_salarie_en_mission_with_family_every_step_on_time(broker):
    out, result = run(broker, dossier(family={"spouse": True, "minor_children": 2}))
    d = out["D-1"]
    assert d["outcome"] == "titre_remis" and d["deadline_breaches"] == []
    assert steps(d) == [
        "depot_autorisation_travail",
        "transmission_smoe",
        "decision_autorisation_travail",
        "transmission_consulat",
        "information_employeur",
        "decision_visa",
        "depot_titre",
        "transmission_prefecture",
        "convocation_visite_medicale",
        "fabrication_titre",
        "transmission_titre_ofii",
        "remise_titre",
    ]
    transmission = d["steps"][1]
    assert transmission["stamp"] == "guichet unique"
    assert (transmission["at"], transmission["deadline"]) == ("2026-01-07T09:00:00+01:00", "2026-01-10T09:00:00+01:00")
    spouse, *children = d["family"]
    assert spouse == {"role": "spouse", "titre": "vie_privee_et_familiale", "valid_until": d["titre"]["valid_until"]}
    assert [c["titre"] for c in children] == ["dcem", "dcem"]
    assert result["biometric_report"]["2026-03"]["vie_privee_et_familiale"] == 1


def test_II_A_1_smoe_late_is_a_breach_and_the_dossier_goes_on(broker):
    d = run(broker, dossier(facts={"smoe_instruction_days": 12}))[0]["D-1"]
    assert d["deadline_breaches"] == ["decision_autorisation_travail"] and d["outcome"] == "titre_remis"


def test_II_A_1_refused_work_authorisation_goes_back_to_the_employer(broker):
    d = run(broker, dossier(facts={"remuneration_ok": False}))[0]["D-1"]
    assert d["outcome"] == "autorisation_travail_refusee"
    assert steps(d)[-1] == "information_employeur" and "transmission_consulat" not in steps(d)


def test_II_B_refused_visa(broker):
    d = run(broker, dossier(facts={"visa_granted": False}))[0]["D-1"]
    assert d["outcome"] == "visa_refuse" and "depot_titre" not in steps(d)


def test_I_E_outside_the_single_window_no_consulate(broker):
    out = run(broker, dossier(id="HORS", employment_department="13"), dossier(id="FR", already_in_france=True))[0]
    assert out["HORS"]["route"] == "smoe_droit_commun" and out["HORS"]["outcome"] == "hors_guichet_unique"
    assert out["HORS"]["smoe"] == "13" and "transmission_consulat" not in steps(out["HORS"])
    assert out["FR"]["route"] == "prefecture_residence" and out["FR"]["smoe"] is None


def test_II_D_carte_bleue_no_medical_visit_card_still_handed_over_at_the_ofii(broker):
    d = run(broker, dossier(title="carte_bleue_europeenne"))[0]["D-1"]
    assert d["outcome"] == "titre_remis" and not d["medical_visit_required"]
    assert "convocation_visite_medicale" not in steps(d) and steps(d)[-1] == "remise_titre"


def test_II_D_visit_done_abroad_means_a_convocation_for_hand_over_only(broker):
    d = run(broker, dossier(facts={"medical_abroad": True}))[0]["D-1"]
    assert d["outcome"] == "titre_remis" and "convocation_visite_medicale" not in steps(d)


def test_II_D_one_missed_convocation_brings_a_second(broker):
    d = run(broker, dossier(facts={"medical_no_shows": 1}))[0]["D-1"]
    assert d["second_convocation"] and d["outcome"] == "titre_remis" and not d["returned_to_prefecture"]


def test_II_D_two_missed_convocations_send_the_card_back_after_a_month(broker):
    d = run(broker, dossier(facts={"medical_no_shows": 2}))[0]["D-1"]
    assert d["outcome"] == "titre_a_retirer_en_prefecture" and d["returned_to_prefecture"]
    first = next(s for s in d["steps"] if s["step"] == "convocation_visite_medicale")
    back = next(s for s in d["steps"] if s["step"] == "renvoi_titre_prefecture")
    assert back["at"] > first["at"]


def test_II_C_2_recepisse_when_production_exceeds_two_months(broker):
    d = run(broker, dossier(facts={"prefecture_production_days": 75}))[0]["D-1"]
    assert d["recepisse"] and d["outcome"] == "titre_remis"
    assert steps(d).index("recepisse") < steps(d).index("fabrication_titre")


def test_II_C_2_no_recepisse_for_a_late_deposit(broker):
    facts = {"prefecture_production_days": 75, "visa_validity_days": 90, "arrival_days_after_visa": 30}
    d = run(broker, dossier(facts=facts))[0]["D-1"]
    assert d["deposit_late"] and not d["recepisse"]


def test_II_C_1_incomplete_dossier_waits_for_completion_and_gets_no_recepisse(broker):
    facts = {"titre_dossier_complete": False, "titre_completion_days": 5, "prefecture_production_days": 75}
    out = run(broker, dossier(facts=facts), dossier(id="NEVER", facts={"titre_dossier_complete": False}))[0]
    d = out["D-1"]
    assert steps(d).index("demande_complements") < steps(d).index("transmission_prefecture")
    assert d["outcome"] == "titre_remis" and not d["recepisse"]
    assert out["NEVER"]["outcome"] == "dossier_titre_incomplet"
    assert "transmission_prefecture" not in steps(out["NEVER"])


def test_II_E_3_biometric_table_counts_cards_made_without_prints_by_month(broker):
    result = run(broker, dossier(id="A", family={"spouse": True}), dossier(id="B", title="carte_bleue_europeenne"))[1]
    month = result["biometric_report"]["2026-03"]
    assert month == {
        "salarie_en_mission": 1,
        "competences_et_talents": 0,
        "carte_bleue_europeenne": 1,
        "vie_privee_et_familiale": 1,
    }


def test_II_A_2_competences_et_talents_the_consulate_decides_and_the_ofii_copies_the_ministry(broker):
    d = run(broker, dossier(title="competences_et_talents", employment_department="69", residence_department="69"))[0][
        "D-1"
    ]
    assert d["route"] == "guichet_unique" and d["smoe"] is None and d["outcome"] == "titre_remis"
    s = steps(d)
    assert not {
        "depot_autorisation_travail",
        "transmission_smoe",
        "decision_autorisation_travail",
        "transmission_consulat",
    } & set(s)
    application = d["steps"][0]
    assert (application["step"], application["from"], application["to"]) == (
        "demande_competences_talents",
        "travailleur",
        "consulat",
    )
    order = [
        "demande_competences_talents",
        "decision_competences_talents",
        "decision_visa",
        "transmission_dossier_ofii",
        "copie_ministere",
        "depot_titre",
        "transmission_prefecture",
        "fabrication_titre",
        "remise_titre",
    ]
    assert [x for x in s if x in order] == order
    assert next(x for x in d["steps"] if x["step"] == "copie_ministere")["to"] == "ministere"
    assert d["titre"]["kind"] == "competences_et_talents" and d["titre"]["agdref_observation"]
    assert d["titre"]["mention"] == "compétences et talents"  # L.315-1, under the circular of 2012


def test_II_A_2_competences_et_talents_refused_by_the_consul(broker):
    d = run(broker, dossier(title="competences_et_talents", facts={"visa_granted": False}))[0]["D-1"]
    assert d["outcome"] == "visa_refuse" and "transmission_dossier_ofii" not in steps(d)


def test_2021_note_the_smoe_tells_the_ofii_the_employer_tax_with_its_payment_deadline(broker):
    contract = {"kind": "cdd", "months": 6, "monthly_gross_salary_eur": 2500}
    out = run(broker, dossier(id="CDD", contract=contract), dossier(id="CDI"))[0]
    assert out["CDD"]["employer_tax_eur"] == 210 and out["CDD"]["employer_tax_due_by"] == "2026-04-25"
    assert out["CDI"]["employer_tax_eur"] is None


def test_II_B_no_transmission_to_the_consulate_without_the_complete_address_abroad(broker):
    no_email = dossier(
        worker={
            "address_abroad": {"line": "12 MG Road", "city": "Bengaluru", "country": "IND", "phone": "+91 80 0000 0000"}
        }
    )
    d = run(broker, no_email)[0]["D-1"]
    assert "transmission_consulat" not in steps(d) and d["outcome"] == "en_cours"
    assert d["waiting_for"] == "complement_adresse"
    assert steps(d)[1] == "information_employeur"  # asked for at once, at the filing


def test_2021_note_recours_gracieux_re_examined_by_the_smoe(broker):
    refused = {"remuneration_ok": False, "recours_gracieux": True}
    out = run(
        broker, dossier(id="GRANTED", facts={**refused, "recours_favorable": True}), dossier(id="UPHELD", facts=refused)
    )[0]
    s = steps(out["GRANTED"])
    assert s[s.index("decision_autorisation_travail") : s.index("transmission_consulat")] == [
        "decision_autorisation_travail",
        "information_employeur",
        "recours_gracieux",
        "transmission_recours",
        "decision_recours",
    ]
    assert out["GRANTED"]["outcome"] == "titre_remis"
    assert out["UPHELD"]["outcome"] == "autorisation_travail_refusee" and "decision_recours" in steps(out["UPHELD"])


def test_II_C_1_a_dossier_deposited_in_time_but_completed_after_the_limit_is_late(broker):
    # Visa of 90 days from 25 January: the complete dossier is due by 25 February. The first deposit
    # comes on 19 February without a document; the document comes 20 days later.
    late = {
        "visa_validity_days": 90,
        "titre_dossier_complete": False,
        "titre_completion_days": 20,
        "prefecture_production_days": 75,
    }
    on_time = {**late, "titre_completion_days": 2}
    out = run(broker, dossier(id="LATE", facts=late), dossier(id="ON-TIME", facts=on_time))[0]
    assert out["LATE"]["deposit_late"] and not out["LATE"]["recepisse"]
    assert not out["ON-TIME"]["deposit_late"]


def test_II_C_2_a_card_made_at_the_two_month_mark_is_in_time_and_the_mark_keeps_its_hour_in_summer(broker):
    # Complete dossier at the préfecture on 19 February 09:00 (winter time): the mark is 19 April
    # 09:00 summer time, 59 calendar days later.
    out = run(
        broker,
        dossier(id="AT-MARK", facts={"prefecture_production_days": 59}),
        dossier(id="AFTER", facts={"prefecture_production_days": 60}),
    )[0]
    assert not out["AT-MARK"]["recepisse"] and "recepisse" not in steps(out["AT-MARK"])
    assert [s["at"] for s in out["AFTER"]["steps"] if s["step"] == "recepisse"] == ["2026-04-19T09:00:00+02:00"]


def test_II_D_no_reminder_fires_after_the_card_is_handed_over(tmp_path):
    from guichet.register import Register

    Simulation(scenario(dossier()), data_dir=tmp_path).run()
    messages = []
    for agency in ("ofii", "smoe", "consulat", "prefecture"):
        register = Register.for_agency(agency, tmp_path)
        messages += [(r["sent_at"], r["type"]) for r in register.journal_of("D-1")]
        register.close()
    handed_over = max(at for at, kind in messages if kind == "ofii.remise_titre")
    assert [kind for at, kind in messages if at > handed_over] == []
