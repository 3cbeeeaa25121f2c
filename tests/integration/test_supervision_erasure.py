"""The supervision store erases a dossier on demand (a decision, or the registers' retention run:
docs/retention.md, RGPD art. 17): its rows and failures go, the erasure is journaled (who, when,
why) with no personal data, and an audit copy still in the queue does not bring the person back.
On SQLite and PostgreSQL."""

from datetime import UTC, datetime
from types import SimpleNamespace

from guichet_operations.supervision.ingest import Ingestion
from guichet_operations.supervision.retention import erase
from tests.integration.test_supervision_store import copy, description, record
from tests.supervision_stores import store  # noqa: F401 (the fixture, on both dialects)

NOW = datetime(2026, 4, 1, 8, tzinfo=UTC)
SURNAME = "ZYGMUNTOWICZ"


def described(dossier_id: str) -> dict:
    return description(dossier_id) | {"personal": {"surname": SURNAME if dossier_id == "D-1" else "ROE"}}


def holding(store, text: str) -> list[str]:
    tables = ("dossiers", "records", "tasks", "refusals", "failures", "failure_events", "actions", "erasures")
    return [t for t in tables if text in str(store.rows(f"SELECT * FROM {t}"))]


def test_an_erased_dossier_leaves_the_store_and_does_not_come_back_with_a_late_copy(store):
    ingest = Ingestion(store)
    ingest.audit_copy(
        copy("ofii", 2, [record(1, "D-1"), record(2, "D-2")], dossiers=[described("D-1"), described("D-2")]), "ofii"
    )
    failed = SimpleNamespace(
        body=f'{{"surname": "{SURNAME}"}}'.encode(),
        headers={"dossier_id": "D-1", "x-guichet-error-reason": "handler_error"},
        properties={},
        delivery_info={"routing_key": "ofii.x"},
    )
    ingest.failure(failed)
    assert set(holding(store, SURNAME)) == {"dossiers", "failures"}

    assert erase(store, ["D-1"], "decision", "demande n° 17", "dpo", NOW) == 1
    assert holding(store, SURNAME) == []
    assert store.rows("SELECT dossier_id FROM dossiers") == [{"dossier_id": "D-2"}]
    assert store.rows("SELECT person, role, action, target, detail FROM actions") == [
        {"person": "dpo", "role": "decision", "action": "dossier.erase", "target": "D-1", "detail": "demande n° 17"}
    ]

    # A copy shipped before the erasure and taken after it: its description of D-1 is not taken.
    ingest.audit_copy(copy("ofii", 3, [record(3, "D-1")], dossiers=[described("D-1")]), "ofii")
    assert holding(store, SURNAME) == []
    assert erase(store, ["D-1"], "retention", "period passed", "retention", NOW) == 0, "held nothing any more"
