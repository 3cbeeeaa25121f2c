"""What the operations view reads from the four agencies' registers, read-only, while their services
write: the DT-OFII's dossiers (the single window sees every step), every agency's open tasks and
journal, and the causation ids kept in the outbox envelopes."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from guichet.register import from_text
from guichet.register_reader import RegisterReader
from schemas.base import AGENCIES
from services.deadline_watch import WARNING_MIN, WARNING_SHARE
from services.directory import Directory
from services.views import dossier_view

# A breach the référent was told of (II.E.1): the deadline passed while the step was pending.
BREACH_KINDS = ("depassement", "transmission_en_retard")


@dataclass(frozen=True)
class Registers:
    data_dir: Path | None = None
    database_url: str | None = None

    def reader(self, agency: str) -> RegisterReader:
        return RegisterReader(agency, self.data_dir, self.database_url)

    def dossier_states(self) -> dict[str, dict]:
        with self.reader("ofii") as reader:
            return reader.states()

    def dossier_state(self, dossier_id: str) -> dict | None:
        with self.reader("ofii") as reader:
            return reader.state(dossier_id)

    def open_tasks(self) -> list[dict]:
        """Every open task of the four registers, with the agency that keeps it."""
        tasks = []
        for agency in AGENCIES:
            with self.reader(agency) as reader:
                for row in reader.open_tasks():
                    tasks.append(
                        {
                            "agency": agency,
                            "dossier_id": row["dossier_id"],
                            "task": row["task"],
                            "opened_at": from_text(row["opened_at"]),
                            "deadline": from_text(row["deadline"]),
                        }
                    )
        return tasks

    def journal(self, dossier_id: str) -> list[dict]:
        """The dossier's messages, once each (a message is journalled by its sender and its recipient),
        in the order they were sent, each with the id of the message that caused it when known."""
        entries: dict[str, dict] = {}
        causes: dict[str, str | None] = {}
        for agency in AGENCIES:
            with self.reader(agency) as reader:
                for row in reader.journal_of(dossier_id):
                    entry = entries.setdefault(row["message_id"], {**row, "journalled_by": []})
                    entry["journalled_by"].append(f"{agency} ({row['direction']})")
                for row in reader.outbox_of(dossier_id):
                    try:
                        causes[row["message_id"]] = json.loads(row["body"]).get("causation_id")
                    except ValueError:
                        continue
        timeline = []
        for message_id, row in entries.items():
            sent_at, deadline = from_text(row["sent_at"]), from_text(row["deadline"])
            timeline.append(
                {
                    "message_id": message_id,
                    "type": row["type"],
                    "sender": row["sender"],
                    "recipient": row["recipient"],
                    "sent_at": sent_at,
                    "deadline": deadline,
                    "late": bool(deadline and sent_at > deadline),
                    "causation_id": causes.get(message_id),
                    "journalled_by": row["journalled_by"],
                    "seq": row["seq"],
                }
            )
        timeline.sort(key=lambda m: (m["sent_at"], m["seq"]))
        return timeline


def warning_threshold(task: dict) -> timedelta:
    """As the deadline watch warns (services/deadline_watch.py): a fifth of the period, at least an hour."""
    return max((task["deadline"] - task["opened_at"]) * WARNING_SHARE, WARNING_MIN)


def task_status(task: dict, now: datetime) -> str:
    if task["deadline"] is None:
        return "none"
    left = task["deadline"] - now
    if left < timedelta(0):
        return "breach"
    return "warning" if left <= warning_threshold(task) else "ok"


STATUS_RANK = {"breach": 0, "warning": 1, "ok": 2, "none": 3}


def deadline_rows(tasks: list[dict], now: datetime) -> list[dict]:
    """Open tasks by urgency: breaches, then warnings, then the rest, each by time left."""
    rows = [
        {**t, "status": task_status(t, now), "left": (t["deadline"] - now) if t["deadline"] else None} for t in tasks
    ]
    return sorted(rows, key=lambda r: (STATUS_RANK[r["status"]], r["left"] or timedelta.max, r["dossier_id"]))


def dossier_rows(states: dict[str, dict], tasks: list[dict], now: datetime, directory: Directory) -> list[dict]:
    """Each dossier with where it stands and its next legal deadline."""
    by_dossier: dict[str, list[dict]] = {}
    for task in deadline_rows(tasks, now):
        by_dossier.setdefault(task["dossier_id"], []).append(task)
    rows = []
    for dossier_id, state in sorted(states.items()):
        view = dossier_view(state, directory)
        open_tasks = by_dossier.get(dossier_id, [])
        dated = sorted((t for t in open_tasks if t["deadline"]), key=lambda t: t["deadline"])
        closed = view["outcome"] != "en_cours"
        agencies = sorted({t["agency"] for t in open_tasks}, key=AGENCIES.index)
        if not agencies and not closed:
            agencies = ["ofii"]  # the single window holds a dossier that waits on a person
        last = view["steps"][-1] if view["steps"] else None
        step = (
            view["waiting_for"] or (open_tasks[0]["task"] if open_tasks else None) or (last["step"] if last else None)
        )
        alerted = [a for a in view["deadline_alerts"] if a["kind"] in BREACH_KINDS]
        rows.append(
            {
                "id": dossier_id,
                "view": view,
                "closed": closed,
                "outcome": view["outcome"],
                "route": view["route"],
                "agencies": agencies,
                "step": step,
                "last_step": last,
                "next_deadline": dated[0] if dated else None,
                "late": bool(view["deadline_breaches"]) or any(t["status"] == "breach" for t in open_tasks),
                "breached": bool(alerted) or any(t["status"] == "breach" for t in open_tasks),
                "breaches": view["deadline_breaches"],
                "alerts": alerted,
            }
        )
    return rows


FILTERS = {
    "open": lambda r: not r["closed"],
    "closed": lambda r: r["closed"],
    "late": lambda r: r["late"],
    "breached": lambda r: r["breached"],
}


def select(rows: list[dict], state: str | None, agency: str | None, step: str | None) -> list[dict]:
    chosen = [r for r in rows if FILTERS[state](r)] if state in FILTERS else rows
    if agency:
        chosen = [r for r in chosen if agency in r["agencies"]]
    if step:
        chosen = [r for r in chosen if r["step"] == step]
    return chosen
