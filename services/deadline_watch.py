"""The deadline watch (circulaire 2012, II; II.E.1): every agency reminds itself shortly before
and at each legal deadline of a pending step, and tells the DT-OFII's référent guichet unique
while the step is still pending; a transmission that waited in its recipient's queue past its
deadline raises an alert too. The dossier goes on either way."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from guichet.agency import Context, Reminders, Task
from guichet.envelope import Envelope
from guichet.message import MessageRegistry
from guichet.metrics import DeadlineSignal
from guichet.timeutil import UTC
from schemas.base import AGENCIES, Message
from schemas.veille import ALERTE, VEILLE

log = structlog.get_logger("services.deadline_watch")

WARNING_SHARE = 0.2  # warn when a fifth of the legal period is left
WARNING_MIN = timedelta(hours=1)


def watch_reminders(agency: str, task: Task) -> list[tuple[Message, datetime]]:
    """The two reminders of a watched deadline: a warning before it, a breach just after it."""
    if not task.watch or task.deadline is None:
        return []
    # Elapsed time, on UTC: two Paris-zoned instants subtract and add on their wall clock, which
    # across a change of time is an hour off.
    deadline, opened = task.deadline.astimezone(UTC), task.opened_at.astimezone(UTC)
    warn_at = task.warn_at or deadline - max((deadline - opened) * WARNING_SHARE, WARNING_MIN)
    veille = VEILLE[agency]
    step = task.step or task.name
    return [
        (veille(task=task.name, step=step, kind="avertissement", deadline=task.deadline), max(warn_at, opened)),
        (
            veille(task=task.name, step=step, kind="depassement", deadline=task.deadline),
            deadline + timedelta(seconds=1),
        ),
    ]


def reminders_of(agency: str) -> Reminders:
    return lambda task: watch_reminders(agency, task)


def watch_deadline(msg, ctx: Context, state) -> None:
    """II.E.1: the référent guichet unique of the DT-OFII hears of a deadline while the step is pending."""
    if not ctx.is_open(msg.task):
        return
    alert = ALERTE[ctx.envelope.sender.agency](
        agency=ctx.envelope.sender.agency, task=msg.task, step=msg.step, kind=msg.kind, deadline=msg.deadline
    )
    log.warning(
        "deadline " + ("near" if msg.kind == "avertissement" else "passed"),
        step=msg.step,
        deadline=msg.deadline.isoformat(),
    )
    ctx.send(alert)


ALERT_TYPES = frozenset(cls.TYPE for cls in ALERTE.values())


def deadline_signal(envelope: Envelope) -> DeadlineSignal | None:
    """For the metrics: an alert to the référent (II.E.1) an agency sends, whose step it is about and
    whether the deadline passed (depassement) or is only near; any other message is none."""
    if envelope.type not in ALERT_TYPES:
        return None
    payload = envelope.payload
    return DeadlineSignal(
        agency=payload["agency"], step=payload["step"], kind=payload["kind"], breach=payload["kind"] == "depassement"
    )


def late_transmission_alert(relay: str):
    """II.E.1: a transmission that expired in an agency's queue is reported to the référent by the
    relaying agency; transmissions to outside parties raise none."""

    def alert(envelope: Envelope, late: Message) -> Message | None:
        if envelope.recipient not in AGENCIES:
            return None
        return ALERTE[relay](
            agency=envelope.recipient,
            task="transmission",
            step=late.STEP or envelope.type,
            kind="transmission_en_retard",
            deadline=envelope.deadline or envelope.sent_at,
        )

    return alert


# The steps whose legal deadline each agency watches (step or task name of every `await_act` with a
# deadline): their alert and breach counters start at 0, so the first breach after a restart is seen.
WATCHED_STEPS = {
    "ofii": (
        "traitement_autorisation_travail",
        "transmission_smoe",
        "transmission_consulat",
        "depot_titre",
        "complements_titre",
    ),
    "smoe": ("decision_autorisation_travail",),
    "consulat": ("decision_visa",),
    "prefecture": ("fabrication_titre", "titre_famille"),
}


def deadline_signals(agency: str, relay: str, messages: MessageRegistry) -> tuple[DeadlineSignal, ...]:
    """Every deadline alert `agency` may send: a warning and a breach on each step it watches and,
    for the relay, a late transmission of each message one agency sends another."""
    watched = [
        DeadlineSignal(agency, step, kind, breach=kind == "depassement")
        for step in WATCHED_STEPS.get(agency, ())
        for kind in ("avertissement", "depassement")
    ]
    late = [
        DeadlineSignal(cls.RECIPIENT, cls.STEP or cls.TYPE, "transmission_en_retard")
        for cls in messages.values()
        if agency == relay and cls.SENDER in AGENCIES and cls.RECIPIENT in AGENCIES and cls.SENDER != cls.RECIPIENT
    ]
    return tuple(dict.fromkeys((*watched, *late)))
