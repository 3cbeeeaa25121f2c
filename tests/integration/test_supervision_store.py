"""The supervision store takes what it can check and nothing more (issue 22): the agency a copy
speaks for is its routing key, only the single window describes dossiers, a copy or a failure taken
twice changes nothing, an older description never overwrites a newer one, a wait on the employer is
never a breach, and a malformed copy is refused without jamming the queue. On SQLite and PostgreSQL."""

import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from guichet.refusals import RefusalNotice
from guichet_operations.supervision.ingest import Ingestion, Refused
from guichet_operations.supervision.service import Supervisor
from tests.supervision_stores import store  # noqa: F401 (the fixture, on both dialects)


def copy(agency: str, to_seq: int, records=(), tasks=(), dossiers=(), **extra) -> str:
    return json.dumps(
        {
            "format": 1,
            "agency": agency,
            "message_id": f"{agency}:{to_seq}",
            "from_seq": 1,
            "to_seq": to_seq,
            "head_hash": "h" * 64,
            "bus_now": "2026-03-21T08:00:00.000000+00:00",
            "time_scale": 1.0,
            "shipped_at": datetime.now(UTC).isoformat(),
            "records": list(records),
            "tasks": list(tasks),
            "dossiers": list(dossiers),
            **extra,
        }
    )


def record(seq: int, dossier_id: str = "D-1", type_: str = "ofii.transmission_smoe") -> dict:
    return {
        "seq": seq,
        "direction": "out",
        "message_id": f"m-{seq}",
        "dossier_id": dossier_id,
        "type": type_,
        "sender": "ofii",
        "recipient": "smoe",
        "sent_at": "2026-03-20T08:00:00.000000+00:00",
        "deadline": None,
        "recorded_at": "2026-03-20T08:00:00.000000+00:00",
        "hash": f"{seq:064d}",
        "causation_id": None,
    }


def description(dossier_id: str = "D-1", outcome: str = "en_cours", alerts=(), waiting_for=None) -> dict:
    return {
        "dossier_id": dossier_id,
        "updated_at": "2026-03-20T08:00:00.000000+00:00",
        "siret": "12345678900017",
        "departement": "92",
        "filed_at": "2026-03-01T23:00:00.000000+00:00",
        "personal": {"surname": "DOE", "given_names": "Jane", "nationality": "IND"},
        "projection": {
            "id": dossier_id,
            "title": "salarie_en_mission",
            "route": "guichet_unique",
            "outcome": outcome,
            "prefecture": "92",
            "smoe": "92",
            "waiting_for": waiting_for,
            "deadline_alerts": list(alerts),
            "steps": [{"step": "depot_autorisation_travail"}],
            "titre": None,
        },
    }


def test_the_routing_key_names_the_agency_and_only_the_single_window_describes(store):
    ingest = Ingestion(store)
    with pytest.raises(Refused, match="speaks for 'ofii'"):
        ingest.audit_copy(copy("ofii", 1, [record(1)]), "smoe")
    with pytest.raises(Refused, match="names no agency"):
        ingest.audit_copy(copy("usagers", 1), "usagers")
    assert store.rows("SELECT COUNT(*) AS n FROM records")[0]["n"] == 0
    # The SMOE's copy is filed under the SMOE; its description of a dossier is not taken.
    assert ingest.audit_copy(copy("smoe", 1, [record(1)], dossiers=[description()]), "smoe")
    assert store.rows("SELECT agency FROM records") == [{"agency": "smoe"}]
    assert store.rows("SELECT COUNT(*) AS n FROM dossiers")[0]["n"] == 0
    assert ingest.audit_copy(copy("ofii", 1, [record(1)], dossiers=[description()]), "ofii")
    assert [r["dossier_id"] for r in store.rows("SELECT dossier_id FROM dossiers")] == ["D-1"]


def test_a_copy_taken_twice_changes_nothing_and_an_older_description_does_not_overwrite(store):
    ingest = Ingestion(store)
    assert ingest.audit_copy(
        copy("ofii", 2, [record(1), record(2)], dossiers=[description(outcome="titre_remis")]), "ofii"
    )
    assert not ingest.audit_copy(copy("ofii", 2, [record(1), record(2)]), "ofii"), "the same copy again"
    assert store.rows("SELECT COUNT(*) AS n FROM records")[0]["n"] == 2
    # A copy shipped earlier, redelivered after the later one: the later description stays.
    assert ingest.audit_copy(copy("ofii", 1, [record(1)], dossiers=[description(outcome="en_cours")]), "ofii")
    row = store.rows("SELECT outcome, closed, source_seq FROM dossiers WHERE dossier_id = 'D-1'")[0]
    assert row == {"outcome": "titre_remis", "closed": 1, "source_seq": 2}


def test_a_wait_on_the_employer_is_never_the_next_deadline_and_a_breach_is_what_was_alerted(store):
    ingest = Ingestion(store)
    tasks = [
        {"dossier_id": "D-1", "task": "complements_titre", "opened_at": "2026-03-01T00:00:00+00:00",
         "deadline": "2026-03-05T00:00:00+00:00", "closed_at": None},
        {"dossier_id": "D-1", "task": "transmission_smoe", "opened_at": "2026-03-01T00:00:00+00:00",
         "deadline": "2026-03-10T00:00:00+00:00", "closed_at": None},
    ]  # fmt: skip
    ingest.audit_copy(copy("ofii", 1, [record(1)], tasks, [description()]), "ofii")
    row = store.rows("SELECT next_deadline, holder, step, breached FROM dossiers")[0]
    assert row == {
        "next_deadline": "2026-03-10T00:00:00+00:00",
        "holder": "ofii",
        "step": "transmission_smoe",
        "breached": 0,
    }
    assert store.rows("SELECT task FROM tasks WHERE employer_side = 1") == [{"task": "complements_titre"}]
    alert = {"agency": "smoe", "step": "decision_autorisation_travail", "kind": "depassement"}
    ingest.audit_copy(copy("ofii", 2, [record(2)], dossiers=[description(alerts=[alert])]), "ofii")
    assert store.rows("SELECT breached, alerts FROM dossiers")[0] == {"breached": 1, "alerts": 1}


def failed(body: bytes, filing_id: str | None, message_id: str = "m-9") -> SimpleNamespace:
    headers = {
        "x-guichet-error-reason": "invalid_payload",
        "x-guichet-error-message": "payload.granted: not a boolean",
        "x-guichet-error-message_id": message_id,
        "x-guichet-error-queue": "guichet.ofii",
        "x-guichet-error-last-failure": "2026-03-21T08:00:00+00:00",
        "dossier_id": "D-1",
        "type": "consulat.decision_visa",
    }
    if filing_id:
        headers["x-guichet-filing-id"] = filing_id
    return SimpleNamespace(
        body=body, headers=headers, properties={}, delivery_info={"routing_key": "ofii.consulat.decision_visa"}
    )


def test_a_failure_is_kept_whole_once_per_filing(store):
    ingest = Ingestion(store)
    body = b'{"payload": {"surname": "DOE", "passport_number": "Z12'  # truncated: not JSON
    assert ingest.failure(failed(body, "filing-1"))
    assert not ingest.failure(failed(body, "filing-1")), "the same filing delivered twice"
    assert ingest.failure(failed(b"\xff\xfe not utf-8", None, "m-10"))
    rows = store.rows("SELECT message_id, reason, status, routing_key, body FROM failures ORDER BY id")
    assert [(r["message_id"], r["reason"], r["status"]) for r in rows] == [
        ("m-9", "invalid_payload", "en_attente"),
        ("m-10", "invalid_payload", "en_attente"),
    ]
    assert bytes(rows[0]["body"]) == body and bytes(rows[1]["body"]) == b"\xff\xfe not utf-8"
    assert rows[0]["routing_key"] == "ofii.consulat.decision_visa"
    assert [e["event"] for e in store.rows("SELECT event FROM failure_events")] == ["deposee", "deposee"]


def test_a_refusal_notice_is_taken_once(store):
    notice = RefusalNotice(
        notice_id=uuid.uuid4(),
        message_id="m-1",
        type="consulat.decision_visa",
        dossier_id="D-1",
        reason="bad_signature",
        error="la signature ne correspond pas",
        recipient="consulat",
        identified_by="account",
        refused_by="ofii",
        refused_at=datetime(2026, 3, 21, 8, tzinfo=UTC),
    ).model_dump_json()
    ingest = Ingestion(store)
    assert ingest.refusal(notice) and not ingest.refusal(notice)
    assert store.rows("SELECT party, refused_by, reason FROM refusals") == [
        {"party": "consulat", "refused_by": "ofii", "reason": "bad_signature"}
    ]
    with pytest.raises(Refused):
        ingest.refusal(b'{"notice": "refusal_notice"}')


def test_a_malformed_copy_is_refused_and_acknowledged_not_retried_for_ever(store):
    supervisor = Supervisor(store, "amqp://unused", namespace="guichet")
    acked = []
    message = SimpleNamespace(
        body=copy("ofii", 3, [{"seq": 3}]),  # a record without its fields
        headers={"type": "audit_copy"},
        delivery_info={"exchange": "guichet.vers.supervision", "routing_key": "ofii"},
        ack=lambda: acked.append(True),
    )
    supervisor.on_message(message)
    assert acked == [True]
    assert supervisor.metrics.refused.labels(kind="audit_copy")._value.get() == 1
    assert store.rows("SELECT COUNT(*) AS n FROM records")[0]["n"] == 0, "nothing of it was kept"


def test_readers_in_parallel_see_every_committed_write_through_a_bounded_number_of_connections(store):
    """The console's threads read at once while ingestion writes: each read sees a committed state,
    the last one sees everything, and PostgreSQL is not given a connection per thread."""
    import threading

    from guichet_operations.supervision.store import READERS

    ingest, seen, errors = Ingestion(store), [], []

    def read() -> None:
        try:
            for _ in range(20):
                seen.append(store.rows("SELECT COUNT(*) AS n FROM records")[0]["n"])
        except Exception as exc:  # collected: an assertion in a thread would be lost
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(12)]
    for t in readers:
        t.start()
    for seq in range(1, 21):
        assert ingest.audit_copy(copy("ofii", seq, [record(seq)]), "ofii")
    for t in readers:
        t.join()
    assert errors == [] and all(0 <= n <= 20 for n in seen)
    assert store.rows("SELECT COUNT(*) AS n FROM records")[0]["n"] == 20
    assert len(getattr(store, "_opened", [])) <= READERS
