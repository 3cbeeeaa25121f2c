"""What a dossier and its facts may say: the contract's length, strict types, bounded durations."""

import pytest
from pydantic import ValidationError

from schemas.dossier import Contract
from schemas.facts import Facts


def test_D311_18_2_a_fixed_term_states_its_length_on_which_the_tax_depends_and_a_cdi_has_none():
    assert Contract(kind="cdd", months=6, monthly_gross_salary_eur=2500).months == 6
    assert Contract(kind="saisonnier", months=4, monthly_gross_salary_eur=2000).months == 4
    assert Contract(kind="cdi", months=None, monthly_gross_salary_eur=5200).months is None
    for kind in ("cdd", "saisonnier"):
        with pytest.raises(ValidationError, match=f"a {kind} contract states its length in months"):
            Contract(kind=kind, monthly_gross_salary_eur=2500)
    with pytest.raises(ValidationError, match="a cdi has no length in months"):
        Contract(kind="cdi", months=12, monthly_gross_salary_eur=5200)


def test_a_number_or_a_boolean_written_as_a_string_is_refused():
    with pytest.raises(ValidationError, match="valid number"):
        Contract.model_validate({"kind": "cdi", "monthly_gross_salary_eur": "5200"})
    with pytest.raises(ValidationError, match="valid boolean"):
        Facts.model_validate({"visa_granted": "yes"})
    assert Facts.model_validate({"smoe_instruction_days": 12}).smoe_instruction_days == 12.0


@pytest.mark.parametrize("value", [float("inf"), float("nan"), 1e12, -1])
def test_II_every_duration_is_a_finite_number_of_days_within_ten_years(value):
    with pytest.raises(ValidationError):
        Facts.model_validate({"prefecture_production_days": value})


def test_II_C_1_a_completion_delay_belongs_to_an_incomplete_dossier_only():
    incomplete = Facts.model_validate({"titre_dossier_complete": False, "titre_completion_days": 5})
    assert incomplete.titre_completion_days == 5
    with pytest.raises(ValidationError, match="applies only to an incomplete dossier"):
        Facts.model_validate({"titre_completion_days": 5})
