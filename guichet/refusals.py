"""Refusal notices: the sender of a refused message learns that it was refused, and why.

A receiver files what it refuses in the error queue (guichet/dead_letters.py), which only the
operator reads. A connector written by another administration needs to see its own mistakes: once
the filing is confirmed, the receiver publishes a `RefusalNotice` on the refusal exchange under the
sender's party name, which routes it to that party's refusal queue (guichet/topology.py), readable
by that party's account only (guichet_operations/broker_permissions.py).

Who is told is what the receiver can check, never what the message claims: the account the broker
validated (the AMQP `user_id`, with per-party accounts). Only a bus without per-party accounts,
where no one can be checked, falls back to the claimed sender, and the notice says so
(`identified_by`). A message whose sender cannot be determined gets no notice, only its filing.

A notice carries ids, the reason and the error texts of the codec or the gate: never the payload,
nor anything else the message held. A notice is a courtesy: publishing it never stands in the
way of the filing, which is the record (a notice the broker refuses is logged and forgotten).
A receiver sends one notice per refused message id and sender; its id is derived from them, so a
redelivery after a restart yields at most one more notice, under the same `notice_id`.
"""

from __future__ import annotations

import json
import uuid
from collections import OrderedDict
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import structlog
from pydantic import BaseModel, ConfigDict, Field

from guichet.failures import delivery_message_id, envelope_field

if TYPE_CHECKING:
    from guichet.admission import Admission
    from guichet.agency import Agency, Outcome
    from guichet.transport import Transport

log = structlog.get_logger("guichet.runner")

NOTICE_TYPE: Literal["refusal_notice"] = "refusal_notice"
NOTICE_VERSION: Literal[1] = 1
NOTICES = uuid.UUID("5b1f3e0c-2a4d-4f7e-9c61-8d0a7e3b2f14")
MAX_ERRORS, MAX_ERROR_TEXT = 50, 2000
# How many notices a receiver remembers having sent, to send one per refused message only.
REMEMBERED = 10_000
HANDLER_FAULT = (
    "the receiver could not handle this message after every retry; it is kept in the receiver's error "
    "queue for its operator"
)


class RefusalNotice(BaseModel):
    """What a sender is told of a message its receiver refused. No payload, no personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid", title="RefusalNotice")
    notice: Literal["refusal_notice"] = NOTICE_TYPE
    version: Literal[1] = NOTICE_VERSION
    notice_id: uuid.UUID = Field(description="uuid5 of the refused message id, the receiver and the sender")
    message_id: str = Field(max_length=200, description="The refused message's id, as it was delivered")
    type: str | None = Field(default=None, max_length=100, description="Its type, as it claimed")
    dossier_id: str | None = Field(default=None, max_length=100, description="Its dossier, as it claimed")
    reason: str = Field(
        max_length=100,
        description="Why: the reason filed in the error queue (invalid_payload, unknown_type, bad_signature, "
        "unsigned, unknown_dossier, unexpected_step, wrong_account, misaddressed, handler_error...)",
    )
    error: str = Field(max_length=MAX_ERROR_TEXT, description="The refusal, said to a person")
    errors: list[str] = Field(
        default_factory=list, max_length=MAX_ERRORS, description="Each validation error, `where: what`"
    )
    recipient: str = Field(max_length=100, description="The party notified: the one whose refusal queue holds it")
    identified_by: Literal["account", "claimed_sender"] = Field(
        description="`account`: the broker account that published the message; `claimed_sender`: the "
        "sender the message named, on a bus without per-party accounts"
    )
    refused_by: str = Field(max_length=100, description="The agency that refused the message")
    refused_at: datetime = Field(description="When, on the refusing agency's (bus) clock")


def notice_schema() -> dict[str, Any]:
    """The JSON Schema of a notice, for the AsyncAPI document and foreign connectors."""
    return RefusalNotice.model_json_schema()


def notice_id(message_id: str, receiver: str, recipient: str) -> uuid.UUID:
    return uuid.uuid5(NOTICES, f"{message_id}|{receiver}|{recipient}")


def error_texts(errors: Any) -> list[str]:
    """Validation errors as `where: what` texts: only where and what, never the value refused."""
    texts = []
    for item in list(errors or [])[:MAX_ERRORS]:
        if isinstance(item, dict):
            where = item.get("field", item.get("loc", item.get("where", "")))
            where = ".".join(str(p) for p in where) if isinstance(where, (list, tuple)) else str(where)
            what = str(item.get("msg", item.get("message", item.get("error", ""))))
            text = f"{where}: {what}" if where else what
        else:
            text = str(item)
        texts.append(text[:MAX_ERROR_TEXT])
    return texts


class Refusals:
    """The notices one agency sends to the parties whose messages it refused."""

    def __init__(self, agency: Agency, bus: Transport, admission: Admission):
        self.agency, self.bus, self.admission = agency, bus, admission
        self.sent: OrderedDict[uuid.UUID, None] = OrderedDict()
        self.notified = 0

    def recipient(self, body: Any, headers: dict[str, Any], outcome: Outcome, user_id: str | None) -> tuple[str, str]:
        """Whom to tell, and how it is known; ("", "") when nobody can be told."""
        parties = self.bus.topology.parties
        if self.admission.account_prefix is not None:
            role = self.admission.account_role(user_id)
            return (role, "account") if role in parties.notified else ("", "")
        claimed = headers.get("sender")
        if not isinstance(claimed, str):
            claimed = outcome.envelope.sender.agency if outcome.envelope is not None else _body_sender(body)
        role = self.admission.plan.role_of(claimed) if isinstance(claimed, str) else ""
        return (role, "claimed_sender") if role in parties.notified else ("", "")

    def notice(
        self, body: Any, headers: dict[str, Any], outcome: Outcome, user_id: str | None, message_id: str | None
    ) -> RefusalNotice | None:
        recipient, identified_by = self.recipient(body, headers, outcome, user_id)
        if not recipient:
            return None
        refused = delivery_message_id(body, headers, message_id)[:200]
        fault = outcome.status == "failed"
        return RefusalNotice(
            notice_id=notice_id(refused, self.agency.name, recipient),
            message_id=refused,
            type=_claimed(envelope_field(body, outcome, "type")),
            dossier_id=_claimed(envelope_field(body, outcome, "dossier_id")),
            reason=str(outcome.reason or "refused")[:100],
            error=HANDLER_FAULT if fault else str(outcome.error or "")[:MAX_ERROR_TEXT],
            errors=[] if fault else error_texts(outcome.details.get("errors")),
            recipient=recipient,
            identified_by=identified_by,  # type: ignore[arg-type]  # one of the two, from recipient()
            refused_by=self.agency.name,
            refused_at=self.agency.clock.now(),
        )

    def notify(
        self, body: Any, headers: dict[str, Any], outcome: Outcome, user_id: str | None, message_id: str | None
    ) -> RefusalNotice | None:
        """Tell the sender of a refused message, once its filing was confirmed; never raises."""
        try:
            notice = self.notice(body, headers, outcome, user_id, message_id)
            if notice is None or notice.notice_id in self.sent:
                return None
            self.bus.publish(
                notice.model_dump_json(),
                notice.recipient,
                {"type": NOTICE_TYPE, "version": NOTICE_VERSION, "refused_by": self.agency.name},
                str(notice.notice_id),
                exchange=self.bus.topology.refusals_exchange,
            )
        except Exception as exc:  # the filing is the record; a notice lost is only logged
            log.warning("refusal notice not sent", agency=self.agency.name, error=f"{type(exc).__name__}: {exc}"[:300])
            return None
        log.info(
            "refusal notice sent",
            agency=self.agency.name,
            recipient=notice.recipient,
            reason=notice.reason,
            message_id=notice.message_id,
        )
        self.sent[notice.notice_id] = None
        if len(self.sent) > REMEMBERED:
            self.sent.popitem(last=False)
        self.notified += 1
        return notice


def _claimed(value: Any) -> str | None:
    return str(value)[:100] if isinstance(value, str) and value else None


def _body_sender(body: Any) -> str | None:
    try:
        sender = json.loads(body).get("sender")
        return sender.get("agency") if isinstance(sender, dict) else None
    except Exception:  # an undecodable body names no sender
        return None
