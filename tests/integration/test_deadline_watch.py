"""The deadline watch (circulaire 2012 II.A.1, II.B, II.C; II.E.1 référent), on the real broker
with a compressed clock, and its timing rules alone."""

import json
import subprocess
from datetime import datetime, timedelta

import pytest

from guichet.agency import Task
from guichet.register_reader import RegisterReader, read_state
from guichet.timeutil import PARIS
from services.deadline_watch import watch_reminders
from tests.conftest import dossier, wait_until
from tests.services import guichet, running_services


def test_II_E_1_a_watched_deadline_brings_a_warning_before_and_a_breach_after():
    opened = datetime(2026, 1, 7, 9, tzinfo=PARIS)
    task = Task("instruction", opened, opened + timedelta(days=10), step="decision_autorisation_travail")
    (warning, warn_at), (breach, breach_at) = watch_reminders("smoe", task)
    assert warning.TYPE == "smoe.veille.echeance" and warning.kind == "avertissement"
    assert warn_at == opened + timedelta(days=8)
    assert breach.kind == "depassement" and breach_at > task.deadline
    assert watch_reminders("ofii", Task("presentation_convocation_1", opened, opened, watch=False)) == []


def test_II_A_1_four_to_six_weeks_overall_warns_at_four_weeks():
    opened = datetime(2026, 1, 5, 9, tzinfo=PARIS)
    task = Task(
        "traitement_autorisation_travail", opened, opened + timedelta(weeks=6), warn_at=opened + timedelta(weeks=4)
    )
    assert [at for _, at in watch_reminders("ofii", task)][0] == opened + timedelta(weeks=4)


def alerts(data):
    return (read_state("ofii", data, "PENDING") or {}).get("alerts", [])


def smoe_task_open(data) -> bool:
    with RegisterReader("smoe", data) as smoe:
        rows = smoe.rows("SELECT closed_at FROM tasks WHERE dossier_id = 'PENDING' AND task = 'instruction'")
    return bool(rows) and rows[0]["closed_at"] is None


@pytest.mark.broker
def test_II_A_1_pending_smoe_instruction_raises_warning_then_breach_while_pending(amqp_url, namespace, tmp_path):
    """The SMOE's back-office never decides (no simulated agent): its 10-day deadline is watched."""
    with running_services(
        amqp_url, namespace, tmp_path, 400_000, agencies=("ofii", "smoe"), extra={"smoe": ["--no-simulated-actors"]}
    ) as bus:
        data = bus["data"]
        scenario = tmp_path / "s.json"
        scenario.write_text(json.dumps({"dossiers": [dossier(id="PENDING")]}))
        subprocess.run(
            guichet("submit", str(scenario), *bus["bus"], *bus["clock"]), check=True, capture_output=True, timeout=60
        )
        got = wait_until(
            lambda: [
                a for a in alerts(data) if a["step"] == "decision_autorisation_travail" and a["kind"] == "depassement"
            ],
            60,
            "the breach alert on the SMOE's decision",
        )
        kinds = [a["kind"] for a in alerts(data) if a["step"] == "decision_autorisation_travail"]
        assert kinds == ["avertissement", "depassement"]
        assert got[0]["agency"] == "smoe"
        assert smoe_task_open(data), "the alerts came while the instruction was still pending"
