"""Each agency's state machine, written as the circular reads: for every message the agency
receives, at which step of a dossier the law lets it in, and from whom. The runtime asks before any
handler runs (`guichet/receipt.py`); whatever the table does not let in changes nothing and goes to
the error queue with its reason:

- `unknown_dossier`: the agency does not hold the dossier and the message does not open one;
- `unexpected_step`: the dossier is not at the step the message answers (a visa decision for a
  dossier the consulate never received, a decision after the card was handed over);
- `not_competent`: the sender is not the party the law makes competent for this dossier (an
  employer other than the one that filed it, an agency alerting about another's deadline);
- `dossier_already_filed`: a filing for a dossier the agency holds, with another content: a
  filing is never changed by another; the same content again under a new id is absorbed;
- `identity_mismatch`: a message that carries the dossier names another worker or employer than
  the one the agency holds: a dossier's identity facts never change by a later message.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from guichet.canonical_json import jcs
from guichet.envelope import Envelope
from guichet.message import Message
from guichet.receipt import Absorbed, Refused, Verdict
from schemas.dossier import Dossier

# (message, dossier as the agency holds it) -> whether the dossier is at the step the message answers
When = Callable[[Any, Any], bool]
# (message, envelope, dossier) -> why the sender is not competent for this dossier, or None
Competence = Callable[[Any, Envelope, Any], str | None]
EMPLOYER = "employeur"
# Why a table refuses a message (Refused.reason): the agency's error-queue counter starts at 0 for each.
REFUSAL_REASONS = ("unexpected_step", "unknown_dossier", "not_competent", "identity_mismatch", "dossier_already_filed")


def never(message: Any, d: Any) -> bool:
    return False


def always(message: Any, d: Any) -> bool:
    return True


@dataclass(frozen=True)
class Step:
    """Where a message is let in: `when` the dossier is at its step, described by `expects`, under `law`.
    `opens`: the message opens a dossier the agency does not hold yet."""

    law: str
    expects: str
    when: When = never
    opens: bool = False
    competent: Competence | None = None


def opens(law: str, *, when: When = never, expects: str = "to open the dossier") -> Step:
    """A filing or a transmission that opens the dossier here; `when`: a step of a dossier already
    held at which it is an answer too."""
    return Step(law, expects, when, opens=True)


def at(when: When, expects: str, law: str, competent: Competence | None = None) -> Step:
    return Step(law, expects, when, competent=competent)


def identity(dossier: Dossier) -> tuple:
    """The facts that make a dossier this person's, for this employer: never changed by a later message."""
    w = dossier.worker
    return (w.surname, w.given_names, w.nationality, w.date_of_birth, w.passport_number, dossier.employer.siret)


def content_key(message: Message) -> str:
    """The business key of a filing: its type and the digest of its content's canonical JSON. The
    envelope (message id, date, facts) is not in it: the same filing sent again has the same key."""
    digest = hashlib.sha256(jcs(message.model_dump(mode="json"))).hexdigest()
    return f"{message.TYPE} {digest}"


@dataclass(frozen=True)
class Table:
    """An agency's rules by message class, and how it says where a dossier stands (for the errors)."""

    agency: str
    rules: dict[type[Message], Step]
    where: Callable[[Any], str] = field(default=lambda d: "held")

    def with_rules(self, rules: dict[type[Message], Step]) -> Table:
        return replace(self, rules={**self.rules, **rules})

    def judge(self, message: Message, envelope: Envelope, d: Any | None) -> Verdict:
        rule = self.rules.get(type(message))
        what = f"{envelope.type} for dossier {envelope.dossier_id!r}"
        if rule is None:
            return Refused("unexpected_step", f"{what}: no step of a dossier at the {self.agency} accepts it")
        if d is None:
            if not rule.opens:
                return Refused(
                    "unknown_dossier",
                    f"{what}: the {self.agency} does not hold this dossier; it is accepted {rule.expects} ({rule.law})",
                )
            return self._employer_files(message, envelope, rule, what)
        held: Dossier | None = getattr(d, "dossier", None)
        if envelope.sender.agency == EMPLOYER and held is not None and envelope.sender.office != held.employer.siret:
            return Refused(
                "not_competent",
                f"{what} from the employer {envelope.sender.office!r}: the dossier "
                f"was filed by the employer SIRET {held.employer.siret} ({rule.law})",
            )
        if rule.competent is not None and (why := rule.competent(message, envelope, d)):
            return Refused("not_competent", f"{what}: {why} ({rule.law})")
        if rule.when(message, d):
            carried: Dossier | None = getattr(message, "dossier", None)
            if carried is not None and held is not None and identity(carried) != identity(held):
                return Refused(
                    "identity_mismatch",
                    f"{what} names another worker or employer than the dossier "
                    f"the {self.agency} holds: identity facts never change by a "
                    f"later message ({rule.law})",
                )
            return None
        if rule.opens and self._repeats(message, d):
            return Absorbed(f"{what} repeats the filing the {self.agency} holds")
        if rule.opens and (d.opened_by is None or d.opened_by.split(" ")[0] == message.TYPE):
            return Refused(
                "dossier_already_filed",
                f"{what}: the {self.agency} already holds this dossier "
                f"({self.where(d)}), filed with another content; a filing is "
                f"not replaced by another ({rule.law})",
            )
        return Refused(
            "unexpected_step",
            f"{what}: the dossier is {self.where(d)} at the {self.agency}; this "
            f"message is accepted {rule.expects} ({rule.law})",
        )

    def admitted(self, message: Message, envelope: Envelope, d: Any, opened: bool) -> None:
        """The filing that opened the dossier is remembered by its content, to know it again."""
        if opened and hasattr(d, "opened_by"):
            d.opened_by = content_key(message)

    @staticmethod
    def _employer_files(message: Message, envelope: Envelope, rule: Step, what: str) -> Refused | None:
        """The employer files for itself: the portal authenticated it by its SIRET (the envelope's office)."""
        filed: Dossier | None = getattr(message, "dossier", None)
        if envelope.sender.agency == EMPLOYER and filed is not None and envelope.sender.office != filed.employer.siret:
            return Refused(
                "not_competent",
                f"{what} from the employer {envelope.sender.office!r} files for the "
                f"employer SIRET {filed.employer.siret} ({rule.law})",
            )
        return None

    @staticmethod
    def _repeats(message: Message, d: Any) -> bool:
        if getattr(d, "opened_by", None) is not None:
            return d.opened_by == content_key(message)
        # A dossier opened before filings were remembered by content: the dossier itself, unchanged.
        carried = getattr(message, "dossier", None)
        return carried is not None and carried == getattr(d, "dossier", None)
