"""End to end: the four agencies as separate OS processes on RabbitMQ, dossiers filed with
`guichet submit`, every one followed to the card handed over."""

import json
import subprocess

import pytest

from guichet.register_reader import read_states
from schemas.base import AGENCIES
from tests.conftest import dossier, wait_until
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker

TIME_SCALE = 400_000  # a legal day in about 0.2 s: the whole flow of ~75 days in about 16 s


def outcomes(data_dir) -> dict[str, str]:
    return {dossier_id: state.get("outcome") for dossier_id, state in read_states("ofii", data_dir).items()}


def test_fifty_dossiers_through_four_service_processes_reach_titre_remis(amqp_url, namespace, tmp_path):
    with running_services(amqp_url, namespace, tmp_path, TIME_SCALE) as bus:
        data = bus["data"]
        scenario = tmp_path / "scenario.json"
        scenario.write_text(
            json.dumps(
                {
                    "dossiers": [
                        dossier(id="MISSION", family={"spouse": True, "minor_children": 1}),
                        dossier(
                            id="CB",
                            title="carte_bleue_europeenne",
                            employment_department="69",
                            residence_department="69",
                        ),
                    ]
                }
            )
        )
        submitted = subprocess.run(
            guichet("submit", str(scenario), *bus["bus"], "--repeat", "25", *bus["clock"]),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert submitted.returncode == 0, submitted.stderr
        assert "filed 50 dossier(s)" in submitted.stdout

        def all_handed_over():
            got = outcomes(data)
            return len(got) == 50 and all(o == "titre_remis" for o in got.values())

        wait_until(all_handed_over, 180, f"50 dossiers at titre_remis (so far: {outcomes(data)})")
        for a, proc in bus["procs"].items():
            assert proc.poll() is None, f"{a} stopped: {(tmp_path / f'{a}.log').read_text()[-2000:]}"

        shown = subprocess.run(
            guichet("dossier", "show", "MISSION-7", "--data-dir", str(data), "--json"),
            capture_output=True,
            text=True,
            timeout=30,
        )
        view = json.loads(shown.stdout)
        assert view["outcome"] == "titre_remis" and view["family"][0]["titre"] == "vie_privee_et_familiale"
        assert [s["step"] for s in view["steps"]][-1] == "remise_titre"
        timeline = subprocess.run(
            guichet("dossier", "show", "CB-3", "--data-dir", str(data)), capture_output=True, text=True, timeout=30
        ).stdout
        assert "prefecture.transmission_titre" in timeline and "smoe.decision_autorisation_travail" in timeline
    assert bus["stopped"] == dict.fromkeys(AGENCIES, 0), "every service stops cleanly on SIGTERM"
