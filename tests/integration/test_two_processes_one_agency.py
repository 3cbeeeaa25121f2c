"""Two `guichet run ofii` processes on one queue and one SQLite register, beside the three other
agencies: every dossier reaches its outcome, no message is handled or sent twice, and the journal's
hash chain, written by both, stays whole."""

import json
import subprocess
from collections import Counter
from datetime import UTC, datetime

import pytest

from guichet.register import Register
from guichet.register_reader import RegisterReader, read_states
from guichet_simulation.launcher import ServiceProcesses
from schemas.base import AGENCIES
from tests.conftest import delete_namespace, dossier, wait_until
from tests.services import guichet

pytestmark = pytest.mark.broker

TIME_SCALE = 400_000
DOSSIERS = 40


def duplicates(agency: str, data_dir, direction: str) -> dict[str, int]:
    with RegisterReader(agency, data_dir) as register:
        ids = [r["message_id"] for r in register.rows("SELECT message_id FROM journal WHERE direction = ?", direction)]
    return {message_id: n for message_id, n in Counter(ids).items() if n > 1}


def test_two_ofii_processes_share_the_queue_and_the_register_without_loss_or_double(amqp_url, namespace, tmp_path):
    origin = datetime.now(UTC)
    services = ServiceProcesses(
        amqp_url, namespace, tmp_path / "data", TIME_SCALE, origin, replicas={"ofii": 2}, log_level="info"
    )
    data = services.data_dir
    try:
        services.start_all()
        assert set(services.processes) == {*AGENCIES, "ofii-2"}
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
            guichet(
                "submit",
                str(scenario),
                "--broker",
                amqp_url,
                "--namespace",
                namespace,
                "--repeat",
                str(DOSSIERS // 2),
                "--time-scale",
                repr(float(TIME_SCALE)),
                "--clock-origin",
                origin.isoformat(),
            ),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert submitted.returncode == 0, submitted.stderr

        def outcomes() -> dict[str, str]:
            return {d: s.get("outcome") for d, s in read_states("ofii", data).items()}

        wait_until(
            lambda: len(outcomes()) == DOSSIERS and set(outcomes().values()) == {"titre_remis"},
            180,
            f"{DOSSIERS} dossiers at titre_remis with two DT-OFII processes (so far: {Counter(outcomes().values())})",
        )
        services.check_alive()
    finally:
        stopped = services.stop_all(20)
        delete_namespace(amqp_url, namespace)
    assert stopped == dict.fromkeys([*AGENCIES, "ofii-2"], 0), "every process stops cleanly on SIGTERM"

    # Both DT-OFII processes took deliveries from the one queue.
    for key in ("ofii", "ofii-2"):
        assert '"event": "processed"' in services.log_path(key).read_text(), f"{key} handled nothing"
    # No message handled twice by the DT-OFII, none sent twice by it, none received twice anywhere.
    assert duplicates("ofii", data, "in") == {}
    assert duplicates("ofii", data, "out") == {}
    for agency in AGENCIES:
        assert duplicates(agency, data, "in") == {}, agency
    register = Register.for_agency("ofii", data)
    try:
        assert register.verify_journal().intact, "the hash chain written by two processes is whole"
    finally:
        register.close()
