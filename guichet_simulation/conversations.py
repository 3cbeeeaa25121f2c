"""The conversation of each title, recorded from the product itself: the embedded simulation runs
one dossier per title (the shipped example dossier, with every simulated act favourable), and
the agencies' registers say who sent what, in reply to what (`causation_id`, read from the
envelopes of their outboxes), with or without a legal deadline and scenario `facts`.

The result is plain data (`Conversation`), which the AsyncAPI document turns into operations
(guichet_operations/asyncapi_conversations.py) and `conversations_markdown` into docs/conversations.md.
"""

from __future__ import annotations

import copy
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import get_args

import structlog.testing

from guichet.envelope import Envelope
from guichet_simulation.harness import Simulation
from schemas.dossier import Title
from services.directory import Directory
from services.scenario import parse_scenario

EXAMPLE = Path(__file__).parent / "examples" / "guichet-unique.json"


@dataclass(frozen=True)
class Exchange:
    """One message of a conversation: `cause` is the index of the message it answers, None for the filing."""

    type: str
    sender: str
    recipient: str
    cause: int | None
    deadline: bool
    facts: bool

    @property
    def internal(self) -> bool:
        """An act recorded inside one agency (an agent's decision), on its own queue."""
        return self.sender == self.recipient


@dataclass
class Conversation:
    title: str
    messages: list[Exchange] = field(default_factory=list)

    def acts_between(self, agency: str, index: int) -> list[int]:
        """The chain of `agency`'s internal acts from message `index` to what it sends, or None when
        message `index` does not lead there through `agency`'s own acts only."""
        chain = []
        cause = self.messages[index].cause
        while cause is not None and self.messages[cause].internal and self.messages[cause].sender == agency:
            chain.insert(0, cause)
            cause = self.messages[cause].cause
        return [cause, *chain] if cause is not None else []

    def replies(self, agency: str, index: int) -> list[dict]:
        """What `agency` sends to others in answer to message `index`, each with the internal acts it
        records on the way (an agent's decision), in order."""
        found = []
        for i, m in enumerate(self.messages):
            if m.sender != agency or m.internal or m.cause is None:
                continue
            chain = self.acts_between(agency, i)
            if chain and chain[0] == index:
                found.append({"n": i, "via": chain[1:]})
        return found

    def as_dict(self, agencies: tuple[str, ...]) -> dict:
        parts = {
            a: [{"receives": i, "replies": self.replies(a, i)} for i in self.received(a)]
            for a in agencies
            if self.received(a)
        }
        return {
            "title": self.title,
            "messages": [{"n": i, **asdict(m)} for i, m in enumerate(self.messages)],
            "parts": parts,
        }

    def received(self, agency: str) -> list[int]:
        return [i for i, m in enumerate(self.messages) if m.recipient == agency and m.sender != agency]


def _dossiers() -> tuple[str, list[dict]]:
    example = json.loads(EXAMPLE.read_text())
    base = example["dossiers"][0]
    dossiers = []
    for title in get_args(Title):
        d = copy.deepcopy(base)
        d["id"], d["title"], d["facts"] = f"CONV-{title}", title, {}
        dossiers.append(d)
    return example["regime"], dossiers


def record_conversations(directory: Directory | None = None) -> list[Conversation]:
    """Run one dossier per title and read back, from every register, what travelled for it."""
    directory = directory or Directory.shipped()
    regime, dossiers = _dossiers()
    simulation = Simulation(parse_scenario({"regime": regime, "dossiers": dossiers}, directory), directory=directory)
    conversations = []
    # The agencies log every message they handle: a document written to standard output must not get them.
    with structlog.testing.capture_logs(), simulation.session():
        for d in dossiers:
            envelopes: dict[str, tuple[tuple, Envelope | None, dict]] = {}
            for runner in simulation.runners:
                register = runner.agency.register
                sent = {
                    row["message_id"]: Envelope.model_validate_json(row["body"])
                    for row in register.read("SELECT message_id, body FROM outbox WHERE dossier_id = ?", d["id"])
                }
                journal = register.read("SELECT * FROM journal WHERE dossier_id = ? ORDER BY seq", d["id"])
                for row in journal:
                    known = envelopes.get(row["message_id"])
                    order = (row["seq"] if row["direction"] == "out" else 10**9,)
                    if known is None or (row["direction"] == "out" and known[1] is None):
                        envelopes[row["message_id"]] = (order, sent.get(row["message_id"]), row)
            conversations.append(_conversation(d["title"], envelopes))
    return conversations


def _conversation(title: str, envelopes: dict[str, tuple[tuple, Envelope | None, dict]]) -> Conversation:
    causes = {
        m: str(e.causation_id) if e is not None and e.causation_id else None for m, (_, e, _) in envelopes.items()
    }

    def depth(m: str | None) -> int:
        return 0 if m is None or m not in envelopes else 1 + depth(causes[m])

    # Bus time first, then causes before what they caused (many messages share an instant).
    ids = sorted(
        envelopes, key=lambda m: (datetime.fromisoformat(envelopes[m][2]["sent_at"]), depth(m), envelopes[m][0])
    )
    position = {m: i for i, m in enumerate(ids)}
    conversation = Conversation(title)
    for m in ids:
        _, envelope, row = envelopes[m]
        cause = causes[m]
        conversation.messages.append(
            Exchange(
                type=row["type"],
                sender=row["sender"],
                recipient=row["recipient"],
                cause=position.get(cause) if cause else None,
                deadline=row["deadline"] is not None,
                # The filing is in no outbox: the simulation files it with the scenario's facts.
                facts=bool(envelope.facts) if envelope is not None else True,
            )
        )
    return conversation
