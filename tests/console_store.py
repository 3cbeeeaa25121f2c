"""Hand-made supervision stores for the console's tests: a dossier, a task, a record, a failure, an
audit-copy source, each with defaults that say nothing, changed by keyword."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from guichet_operations.console.clock import utc_text
from guichet_operations.supervision.store import Store

NOW = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def projection(dossier_id: str, **changes) -> dict:
    view = {
        "id": dossier_id, "title": "salarie_en_mission", "route": "guichet_unique", "route_reason": None,
        "outcome": "en_cours", "outcome_reason": None, "missing_documents": [], "dt_ofii": "DT-OFII Paris",
        "consulat": None, "convocations": [], "waiting_for": None, "smoe": "75", "prefecture": "75",
        "medical_visit_required": True, "second_convocation": False, "returned_to_prefecture": False,
        "recepisse": False, "deposit_late": False, "employer_tax_eur": None, "employer_tax_due_by": None,
        "deadline_breaches": [], "deadline_alerts": [], "family": [], "titre": None, "steps": [],
    }  # fmt: skip
    return view | changes


def add_dossier(store: Store, dossier_id: str, view: dict | None = None, **row) -> dict:
    values = {
        "dossier_id": dossier_id, "title": "salarie_en_mission", "route": "guichet_unique", "outcome": "en_cours",
        "closed": 0, "step": "transmission_smoe", "holder": "ofii", "departement": "75", "prefecture": "75",
        "smoe": "75", "consulat": None, "dt_ofii": "DT-OFII Paris", "siret": None, "agdref_number": None,
        "filed_at": utc_text(NOW - timedelta(days=10)), "updated_at": utc_text(NOW - timedelta(days=1)),
        "next_deadline": None, "breached": 0, "alerts": 0, "personal": None, "source_seq": 1,
    } | row  # fmt: skip
    values["projection"] = json.dumps(view or projection(dossier_id, outcome=values["outcome"]), ensure_ascii=False)
    names = list(values)
    with store.transaction() as tx:
        tx.execute(
            f"INSERT INTO dossiers ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})",
            *[values[n] for n in names],
        )
    return values


def add_task(store: Store, dossier_id: str, task: str, opened_at: datetime, deadline: datetime | None, **row):
    values = {"agency": "ofii", "closed_at": None, "employer_side": 0} | row
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO tasks (agency, dossier_id, task, opened_at, deadline, closed_at, employer_side) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            values["agency"], dossier_id, task, utc_text(opened_at), utc_text(deadline) if deadline else None,
            values["closed_at"], values["employer_side"],
        )  # fmt: skip


def add_record(store: Store, agency: str, seq: int, dossier_id: str, message_id: str, type_: str, sender: str,
               recipient: str, sent_at: datetime, deadline: datetime | None = None, causation_id: str | None = None,
               direction: str = "out") -> None:  # fmt: skip
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO records (agency, seq, direction, message_id, dossier_id, type, sender, recipient, sent_at, "
            "deadline, recorded_at, causation_id, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            agency, seq, direction, message_id, dossier_id, type_, sender, recipient, utc_text(sent_at),
            utc_text(deadline) if deadline else None, utc_text(sent_at), causation_id, "h",
        )  # fmt: skip


def add_failure(store: Store, body: bytes, key: str, status: str = "en_attente", **row) -> int:
    values = {"message_id": "m-" + key, "dossier_id": None, "type": "ofii.depot_autorisation_travail",
              "reason": "invalid_payload", "queue": "guichet.ofii.depots", "headers": "{}"} | row  # fmt: skip
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO failures (message_id, dossier_id, type, reason, queue, failed_at, ingested_at, status, "
            "headers, body, body_size, ingest_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values["message_id"], values["dossier_id"], values["type"], values["reason"], values["queue"],
            utc_text(NOW), utc_text(NOW), status, values["headers"], body, len(body), key,
        )  # fmt: skip
    return int(store.rows("SELECT id FROM failures WHERE ingest_key = ?", key)[0]["id"])


def add_source(store: Store, agency: str, bus_now: datetime, received_at: datetime, time_scale: float = 1.0,
               queues: dict | None = None) -> None:  # fmt: skip
    with store.transaction() as tx:
        tx.execute(
            "INSERT INTO sources (agency, seq, head_hash, bus_now, time_scale, received_at, queues) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            agency, 1, "h", utc_text(bus_now), time_scale, utc_text(received_at), json.dumps(queues or {}),
        )  # fmt: skip
