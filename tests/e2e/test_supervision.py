"""End to end: four agency processes ship audit copies of their journals; the supervision service
takes them into its own store, which then answers for every dossier without any register being
opened; copies shipped while it is down wait in its queue (issue 22: a supervision service of its own)."""

import json
import subprocess
import threading

import pytest

from guichet_operations.supervision.service import Supervisor, wait_consuming
from guichet_operations.supervision.store import Store
from schemas.base import AGENCIES
from tests.conftest import dossier, wait_until
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker

TIME_SCALE = 400_000


def submit(bus, tmp_path, name: str, dossiers: list[dict], repeat: int) -> None:
    scenario = tmp_path / f"{name}.json"
    scenario.write_text(json.dumps({"dossiers": dossiers}))
    done = subprocess.run(
        guichet("submit", str(scenario), *bus["bus"], "--repeat", str(repeat), *bus["clock"]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def handed_over(store: Store) -> set[str]:
    return {r["dossier_id"] for r in store.rows("SELECT dossier_id FROM dossiers WHERE outcome = 'titre_remis'")}


def open_and_closed_tasks(store: Store, dossier_id: str) -> list[dict]:
    return store.rows("SELECT agency, task, closed_at FROM tasks WHERE dossier_id = ?", dossier_id)


def all_tasks_closed(store: Store, dossier_id: str) -> bool:
    tasks = open_and_closed_tasks(store, dossier_id)
    return bool(tasks) and all(t["closed_at"] for t in tasks)


def start(store: Store, amqp_url: str, namespace: str) -> tuple[Supervisor, threading.Thread]:
    supervisor = Supervisor(store, amqp_url, namespace=namespace)
    thread = threading.Thread(target=supervisor.run, daemon=True)
    thread.start()
    assert wait_consuming(supervisor), "the supervision service consumes its queues"
    return supervisor, thread


def test_the_store_follows_every_dossier_from_the_agencies_audit_copies(amqp_url, namespace, tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'supervision.sqlite3'}")
    with running_services(amqp_url, namespace, tmp_path, TIME_SCALE) as bus:
        supervisor, thread = start(store, amqp_url, namespace)
        mission = dossier(id="MISSION", family={"spouse": True, "minor_children": 1})
        submit(bus, tmp_path, "first", [mission], 4)
        wait_until(lambda: len(handed_over(store)) == 4, 180, "4 dossiers handed over, in the supervision store")
        # Each agency ships its own copies on its own turn: the DT-OFII's hand-over may be taken before
        # the last copy of another agency, so the tasks are waited for, not read at once.
        wait_until(lambda: all_tasks_closed(store, "MISSION-2"), 60, "every task of MISSION-2 closed in the store")

        row = store.rows("SELECT * FROM dossiers WHERE dossier_id = 'MISSION-2'")[0]
        assert row["closed"] == 1 and row["title"] == "salarie_en_mission" and row["departement"] == "92"
        assert row["siret"] == mission["employer"]["siret"] and row["agdref_number"]
        projection, personal = json.loads(row["projection"]), json.loads(row["personal"])
        assert projection["steps"][-1]["step"] == "remise_titre"
        assert personal == {"surname": "DOE", "given_names": "Jane", "nationality": "IND"}
        # The description carries no passport, birth date or address: only the fields supervision needs.
        assert "Z1234567" not in row["projection"] and "1990-04-12" not in row["projection"]
        assert "Bengaluru" not in json.dumps(store.rows("SELECT * FROM dossiers"))

        # Every agency's journal is there, each message under the agency that recorded it.
        shipped = {r["agency"] for r in store.rows("SELECT DISTINCT agency FROM records")}
        assert shipped == set(AGENCIES)
        records = store.rows("SELECT agency, direction, type FROM records WHERE dossier_id = 'MISSION-2'")
        assert ("smoe", "out", "smoe.decision_autorisation_travail") in {tuple(r.values()) for r in records}
        assert ("ofii", "in", "smoe.decision_autorisation_travail") in {tuple(r.values()) for r in records}
        caused = store.rows("SELECT causation_id FROM records WHERE dossier_id = 'MISSION-2' AND direction = 'out'")
        assert any(r["causation_id"] for r in caused), "a message sent carries what caused it"
        assert {t["agency"] for t in open_and_closed_tasks(store, "MISSION-2")} >= {"ofii", "smoe", "prefecture"}
        assert {r["agency"] for r in store.rows("SELECT agency FROM sources")} == set(AGENCIES)

        # Each agency's queue as the broker says it is, measured by the supervision service itself.
        def measured() -> dict[str, dict]:
            return {
                r["agency"]: json.loads(r["queues"] or "{}") for r in store.rows("SELECT agency, queues FROM sources")
            }

        wait_until(lambda: all(measured().values()), 30, "every agency's queues measured")
        for agency, queues in measured().items():
            assert queues[f"{namespace}.{agency}"]["consumers"] == 1, (agency, queues)
        assert f"{namespace}.retard" in measured()["ofii"]

        # Down: the copies wait in its queue; back: every one is taken, and none twice.
        supervisor.stop()
        thread.join(timeout=20)
        submit(bus, tmp_path, "while-down", [dossier(id="LATER")], 2)
        wait_until(
            lambda: (
                subprocess.run(
                    guichet("dossier", "show", "LATER-2", "--data-dir", str(bus["data"]), "--json"),
                    capture_output=True,
                    text=True,
                ).stdout.count('"titre_remis"')
                > 0
            ),
            180,
            "the dossiers filed while supervision was down handed over at the agencies",
        )
        assert "LATER-1" not in handed_over(store)
        records_before = store.rows("SELECT COUNT(*) AS n FROM records")[0]["n"]
        supervisor, thread = start(store, amqp_url, namespace)
        wait_until(lambda: {"LATER-1", "LATER-2"} <= handed_over(store), 60, "the copies held while it was down")
        duplicates = store.rows(
            "SELECT agency, seq, COUNT(*) AS n FROM records GROUP BY agency, seq HAVING COUNT(*) > 1"
        )
        assert duplicates == [] and store.rows("SELECT COUNT(*) AS n FROM records")[0]["n"] > records_before
        supervisor.stop()
        thread.join(timeout=20)
    store.close()
