"""The supervision store keeps a closed dossier for its period and no longer, with its records and
tasks; a dossier still open, a failure still waiting and an action inside its own period stay
(issue 22: retention configurable). On SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest

from guichet_operations.supervision.ingest import Ingestion
from guichet_operations.supervision.retention import Retention
from tests.integration.test_supervision_store import copy, description, failed, record
from tests.supervision_stores import store  # noqa: F401 (the fixture, on both dialects)

# The descriptions' last update is 2026-03-20: 400 days later a one-year period has run out.
LATER = datetime(2026, 3, 20, 8, tzinfo=UTC) + timedelta(days=400)


def count(store, table: str, where: str = "1 = 1") -> int:
    return int(store.rows(f"SELECT COUNT(*) AS n FROM {table} WHERE {where}")[0]["n"])


def test_a_closed_dossier_goes_after_its_period_an_open_one_and_a_waiting_failure_stay(store):
    ingest = Ingestion(store)
    task = {"dossier_id": "CLOSED", "task": "remise_titre", "opened_at": "2026-03-01T00:00:00+00:00",
            "deadline": None, "closed_at": "2026-03-20T00:00:00+00:00"}  # fmt: skip
    ingest.audit_copy(
        copy(
            "ofii",
            2,
            [record(1, "CLOSED"), record(2, "OPEN")],
            [task],
            [description("CLOSED", outcome="titre_remis"), description("OPEN")],
        ),
        "ofii",
    )
    ingest.failure(failed(b'{"a": 1}', "filing-waiting", "m-1"))
    ingest.failure(failed(b'{"a": 2}', "filing-settled", "m-2"))
    with store.transaction() as tx:
        tx.execute("UPDATE failures SET status = 'archive', failed_at = '2026-03-20T08:00:00.000000Z'")
        tx.execute("UPDATE failures SET status = 'en_attente' WHERE message_id = 'm-1'")
        tx.execute("INSERT INTO actions (at, person, role, action) VALUES ('2026-03-20T08:00:00.000000Z', "
                   "'oidc:1', 'operateur', 'failures.archive')")  # fmt: skip

    kept_a_while = Retention(store, days=500, actions_days=500).run(LATER)
    assert kept_a_while == {"dossiers": 0, "failures": 0, "actions": 0}
    assert count(store, "dossiers") == 2

    gone = Retention(store, days=365, actions_days=500).run(LATER)
    assert gone == {"dossiers": 1, "failures": 1, "actions": 0}
    assert [r["dossier_id"] for r in store.rows("SELECT dossier_id FROM dossiers")] == ["OPEN"]
    assert count(store, "records", "dossier_id = 'CLOSED'") == 0 and count(store, "records") == 1
    assert count(store, "tasks", "dossier_id = 'CLOSED'") == 0
    assert [r["message_id"] for r in store.rows("SELECT message_id FROM failures")] == ["m-1"]
    assert count(store, "actions") == 1, "the journal of actions has its own period"

    assert Retention(store, days=365, actions_days=30).run(LATER)["actions"] == 1


def test_a_period_under_a_day_is_refused():
    with pytest.raises(ValueError, match="at least one day"):
        Retention(None, days=0)  # type: ignore[arg-type]
