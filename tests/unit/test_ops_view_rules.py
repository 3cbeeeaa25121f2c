"""The operations view's own rules, on hand-made rows: which open task is a breach or a warning
(as the deadline watch warns, services/deadline_watch.py), their order, and the sequence drawing."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from guichet_operations.view.app import duration
from guichet_operations.view.registers import deadline_rows, task_status
from guichet_operations.view.sequence import parties_of, sequence_svg

NOW = datetime(2026, 1, 20, 9, tzinfo=UTC)


def task(dossier_id, days_open, days_left, agency="smoe", name="instruction"):
    return {
        "agency": agency,
        "dossier_id": dossier_id,
        "task": name,
        "opened_at": NOW - timedelta(days=days_open),
        "deadline": None if days_left is None else NOW + timedelta(days=days_left),
    }


def test_a_task_past_its_deadline_is_a_breach_and_one_with_a_fifth_of_its_period_left_a_warning():
    assert task_status(task("A", 9, -0.5), NOW) == "breach"
    assert task_status(task("B", 8, 2), NOW) == "warning"  # 2 days left of 10: a fifth
    assert task_status(task("C", 5, 5), NOW) == "ok"
    assert task_status(task("D", 5, None), NOW) == "none"


def test_open_tasks_are_listed_breaches_first_then_warnings_then_by_time_left():
    rows = deadline_rows(
        [
            task("ok-far", 1, 40),
            task("none", 1, None),
            task("warn", 8, 2),
            task("ok-near", 0.5, 1.5),
            task("breach-old", 20, -10),
            task("breach-new", 10, -0.1),
        ],
        NOW,
    )
    assert [r["dossier_id"] for r in rows] == ["breach-old", "breach-new", "warn", "ok-near", "ok-far", "none"]


def test_durations_say_whether_time_is_left_or_over():
    assert duration(timedelta(days=2, hours=3)) == "2 d 3 h left"
    assert duration(-timedelta(hours=5, minutes=30)) == "5 h 30 min over"


def message(i, sender, recipient, deadline_days=None, late=False):
    sent = NOW + timedelta(days=i)
    return {
        "message_id": f"m{i}",
        "type": f"{sender}.step_{i}",
        "sender": sender,
        "recipient": recipient,
        "sent_at": sent,
        "deadline": sent + timedelta(days=deadline_days) if deadline_days is not None else None,
        "late": late,
    }


def test_the_sequence_draws_one_arrow_per_message_between_two_parties_and_marks_the_late_one():
    messages = [
        message(0, "employeur", "ofii"),
        message(1, "ofii", "smoe", 3),
        message(2, "smoe", "smoe"),
        message(3, "smoe", "ofii", -1, late=True),
        message(4, "ofii", "travailleur"),
    ]
    alerts = [{"agency": "smoe", "step": "decision", "kind": "depassement", "deadline": NOW, "at": NOW}]
    svg = sequence_svg(messages, alerts)
    assert re.findall(r'<g class="message[^"]*" data-message-id="(m\d)"', svg) == ["m0", "m1", "m3", "m4"]
    assert re.findall(r'<g class="message late" data-message-id="(m\d)"', svg) == ["m3"]
    assert svg.count('class="alert breach"') == 1 and "deadline passed: decision" in svg
    assert parties_of(messages) == ["employeur", "ofii", "smoe", "consulat", "prefecture", "travailleur"]
