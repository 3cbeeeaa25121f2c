"""Late transmissions (circulaire 2012, II.A.1: 48 hours to the consulate): a consulate whose service
is down past the deadline. The transmission is dead-lettered to the late queue, the DT-OFII's
référent is alerted, and the dossier completes once the consulate's service is back."""

import json
import subprocess

import pytest

from guichet.register_reader import read_state
from tests.conftest import dossier, wait_until
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker
# Only the wait at the consulate matters here; the card's later steps are made short.
QUICK_AFTER_VISA = {
    "visa_instruction_days": 1,
    "arrival_days_after_visa": 0,
    "titre_deposit_days_after_arrival": 0,
    "prefecture_production_days": 1,
}


def ofii_state(data, dossier_id: str) -> dict:
    return read_state("ofii", data, dossier_id) or {}


def test_II_A_1_transmission_waiting_past_its_deadline_goes_late_raises_the_alert_and_is_still_delivered(
    amqp_url, namespace, tmp_path
):
    with running_services(amqp_url, namespace, tmp_path, 400_000, agencies=("ofii", "smoe", "prefecture")) as bus:
        data = bus["data"]
        scenario = tmp_path / "s.json"
        scenario.write_text(
            json.dumps({"dossiers": [dossier(id="LATE", title="carte_bleue_europeenne", facts=QUICK_AFTER_VISA)]})
        )
        subprocess.run(
            guichet("submit", str(scenario), *bus["bus"], *bus["clock"]), check=True, capture_output=True, timeout=60
        )

        def late_alert():
            return [a for a in ofii_state(data, "LATE").get("alerts", []) if a["kind"] == "transmission_en_retard"]

        alert = wait_until(late_alert, 60, "the late-transmission alert")[0]
        assert alert["agency"] == "consulat" and alert["step"] == "transmission_consulat"
        assert ofii_state(data, "LATE")["outcome"] is None, "the dossier waits, it is not lost"

        services = bus["services"]
        services.start("consulat")
        wait_until(
            lambda: ofii_state(data, "LATE").get("outcome") == "titre_remis",
            60,
            "the dossier to complete after the consulate's restart",
        )
        assert services.stop("consulat") == 0
    steps = [s["step"] for s in ofii_state(data, "LATE")["steps"]]
    assert steps.count("decision_visa") == 1 and steps.count("transmission_consulat") == 1
