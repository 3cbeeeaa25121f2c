"""The runtime of one agency: decode a message, run its handler once, commit the new state with
the messages it causes, then let the outbox publish them.

An agency reaches the runtime as an `AgencyDefinition` (guichet/agency_definition.py, named from
here too); the runtime imports no agency.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import structlog

from guichet import delivery_receipts as receipts
from guichet import receipt, tracing
from guichet.agency_definition import Actors, AgencyDefinition, Handler, LateAlert, Reminders
from guichet.batch import Batch
from guichet.clock import Clock
from guichet.envelope import Envelope, PermanentError, Sender, decode, wrap
from guichet.handler_context import Context, Outgoing, Task
from guichet.message import Message, MessageRegistry
from guichet.outcome import Admitted, Outcome
from guichet.receipt import Freshness, Gate, Opening, Refused
from guichet.register import Register, Transaction
from guichet.registers import erasure

if TYPE_CHECKING:
    from guichet.trust import Trust

log = structlog.get_logger("guichet.agency")
# Context, Outgoing and Task are named from here too: what a handler receives and returns.
__all__ = [
    "Actors",
    "Admitted",
    "Agency",
    "AgencyDefinition",
    "Batch",
    "Context",
    "Handler",
    "LateAlert",
    "Outcome",
    "Outgoing",
    "Reminders",
    "Task",
]


class Agency:
    def __init__(
        self,
        definition: AgencyDefinition,
        register: Register,
        clock: Clock,
        simulate_actors: bool = True,
        trust: Trust | None = None,
        freshness: Freshness | None = None,
    ):
        self.definition = definition
        # How far a sender's date may stray from this agency's clock, as the configuration sets it
        # (the defaults: guichet/receipt.py says why).
        self.freshness = freshness or Freshness()
        self.gate: Gate = definition.gate or Opening(definition.name, definition.opening)
        self.name = definition.name
        self.register = register
        self.clock = clock
        self.actors = definition.actors if simulate_actors else None
        # With a key directory, every envelope is signed on its way out and checked on its way in.
        self.trust = trust
        self.handlers = definition.handlers
        messages = definition.messages if definition.messages is not None else MessageRegistry(self.handlers)
        # Signed receipts (guichet/delivery_receipts.py) need keys: without them none is sent or taken.
        self.receipts_with = definition.receipts_with if trust is not None else frozenset()
        self.messages = receipts.with_receipts(messages, self.name, self.receipts_with)

    def process(
        self, body: bytes | str, headers: dict[str, Any] | None = None, content_type: str | None = "application/json"
    ) -> Outcome:
        """Handle one delivery. Permanent errors are returned, never raised; a handler's own
        exception propagates so that the caller retries it or moves it to the error queue."""
        read = self.read(body, headers, content_type)
        if isinstance(read, Outcome):
            return read
        with self.register.transaction() as tx:
            return self.apply(tx, read)

    def _journal_refused_signature(self, envelope: Envelope, tx: Transaction | None, body: bytes | str) -> None:
        """A refused signature stays in the evidence: a message under a withdrawn or a stranger's key
        is an incident an auditor must find in the register, not only in the logs."""
        if tx is not None:
            receipt.journal_once(tx, receipt.SIGNATURE_REFUSED, envelope, self.clock.now(), body)
            return
        with self.register.transaction() as own:
            receipt.journal_once(own, receipt.SIGNATURE_REFUSED, envelope, self.clock.now(), body)

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Several deliveries in one register transaction: one commit (one fsync, one write lock) for
        the lot. Each message runs in a savepoint of its own, so a handler that fails takes back its
        own writes only; the caller handles it again alone, with the usual retries."""
        with self.register.transaction() as tx:
            yield Batch(self, tx)

    def read(
        self, body: bytes | str, headers: dict[str, Any] | None, content_type: str | None, tx: Transaction | None = None
    ) -> Outcome | Admitted:
        """Decode, verify and find the handler: a rejection as an Outcome, else what to apply."""
        try:
            envelope, message = decode(body, headers, content_type, messages=self.messages)
        except PermanentError as exc:
            # Every validation error, when the codec lists them: the sender's refusal notice says them all.
            listed = getattr(exc, "errors", None)
            details = {"errors": list(listed)} if isinstance(listed, (list, tuple)) and listed else {}
            return Outcome("rejected", reason=exc.reason, error=str(exc), details=details)
        if self.trust is not None:
            try:
                self.trust.verify(envelope, received=body)
            except PermanentError as exc:
                self._journal_refused_signature(envelope, tx, body)
                return Outcome("rejected", envelope, reason=exc.reason, error=str(exc))
        if isinstance(message, receipts.AccuseReception):
            return Admitted(envelope, message, _keeps_receipts, body)
        handler = self.handlers.get(type(message))
        if handler is None:
            return Outcome(
                "rejected",
                envelope,
                reason="not_for_this_agency",
                error=f"{self.name} has no handler for {envelope.type}",
            )
        return Admitted(envelope, message, handler, body)

    def apply(self, tx: Transaction, admitted: Admitted) -> Outcome:
        """Run the handler and write its effects in `tx`: state, processed id, journal, outbox.

        Two processes of one agency on one register stay correct: the dossier row is read for update
        (PostgreSQL; SQLite's BEGIN IMMEDIATE serialises whole transactions), so the second waits
        and reads the first one's state; and if both took the same message, the second one's insert
        of its processed id waits for the first one's commit and finds it there: a duplicate."""
        envelope, message, handler = admitted.envelope, admitted.message, admitted.handler
        bound = structlog.contextvars.bound_contextvars(
            agency=self.name, message_id=str(envelope.message_id), type=envelope.type, dossier_id=envelope.dossier_id
        )
        with bound:
            log.debug("received", sender=envelope.sender.agency, payload=envelope.payload)
            now = self.clock.now()
            if not tx.claim_processed(envelope, now):
                return self._seen_before(tx, envelope, now, erasure.kept_message(tx, envelope, admitted.received))
            if isinstance(message, receipts.AccuseReception):  # kept by the runtime, no handler
                return receipts.keep(tx, self.name, envelope, message, admitted.received, now)
            stored = tx.load_state(envelope.dossier_id, for_update=True)
            state = self.definition.state_model.model_validate_json(stored) if stored is not None else None
            refused = self._judged(tx, message, envelope, state, now, admitted.received)
            if refused is not None:
                return refused
            state, facts = self._admit(message, envelope, state, opened=stored is None)
            ctx = self._handle(tx, handler, message, envelope, state, facts, now)
            self._record(tx, envelope, state, ctx, facts, now, admitted.received)
            log.info("processed", sent=[o.message.TYPE for o in ctx.outgoing], tasks=[t.name for t in ctx.opened])
        return Outcome("processed", envelope)

    def _seen_before(self, tx: Transaction, envelope: Envelope, now: datetime, received: bytes | str | None) -> Outcome:
        """A message id already processed: the same message again (absorbed), or another message
        under an id already used (refused, guichet/receipt.py)."""
        refused = receipt.duplicate_id(tx, envelope, now, received)
        if refused is None:
            return Outcome("duplicate", envelope)
        return Outcome("rejected", envelope, reason=refused.reason, error=refused.error)

    def _judged(
        self,
        tx: Transaction,
        message: Message,
        envelope: Envelope,
        state: Any,
        now: datetime,
        received: bytes | str | None,
    ) -> Outcome | None:
        """What the receiver checks by itself before any handler runs (its clock, its state machine):
        the refusal or the absorbed resend, filed in the register; None when the message is let in."""
        verdict = erasure.refusal(tx, envelope.dossier_id) or receipt.judge(  # erased: docs/retention.md
            self.freshness, self.gate, message, envelope, state, now, receipt.clock_scale(self.clock)
        )
        if verdict is None:
            return None
        receipt.file_verdict(tx, verdict, envelope, now, erasure.kept_message(tx, envelope, received))
        if isinstance(verdict, Refused):
            return Outcome("rejected", envelope, reason=verdict.reason, error=verdict.error)
        return Outcome("duplicate", envelope, "same_content", verdict.what)

    def _admit(
        self, message: Message, envelope: Envelope, state: Any, opened: bool
    ) -> tuple[Any, dict[str, Any] | None]:
        """The dossier the handler works on (opened by this message if the agency did not hold it),
        and the facts its simulated people follow: the dossier's own, else the message's."""
        if state is None:
            state = self.definition.state_model(dossier_id=envelope.dossier_id)
        self.gate.admitted(message, envelope, state, opened)
        facts = getattr(state, "facts", None) or envelope.facts
        if hasattr(state, "facts") and state.facts is None and envelope.facts is not None:
            state.facts = envelope.facts
        return state, facts

    def _handle(
        self,
        tx: Transaction,
        handler: Handler,
        message: Message,
        envelope: Envelope,
        state: Any,
        facts: dict[str, Any] | None,
        now: datetime,
    ) -> Context:
        """Run the handler once, on the dossier and a context that sees this transaction's tasks."""
        ctx = Context(
            envelope, now, self.definition.office(state), facts, self.definition.facts_model, self.definition.reference
        )
        ctx._is_open = lambda task: tx.task_open(envelope.dossier_id, task)
        handler(message, ctx, state)
        return ctx

    def _record(
        self,
        tx: Transaction,
        envelope: Envelope,
        state: Any,
        ctx: Context,
        facts: dict[str, Any] | None,
        now: datetime,
        received: bytes | str | None,
    ) -> None:
        """The new state, the message in the journal as it came with the state it left (and how far
        the sender's clock strayed), and what the handler did: all in `tx`, committed together."""
        state_json = state.model_dump_json()
        tx.save_state(envelope.dossier_id, state_json, now)
        record = tx.journal("in", envelope, now, received=received, state=state_json)
        receipt.note_skew(tx, self.freshness, envelope, now, receipt.clock_scale(self.clock), received)
        if self.trust is not None and receipts.wanted(self.name, self.receipts_with, envelope):
            office = self.definition.office(state)
            tx.add_outbox(self.trust.sign(receipts.receipt_for(self.name, office, envelope, record, now)), now)
        self._write_effects(tx, envelope, state, ctx, facts)

    def _write_effects(
        self, tx: Transaction, envelope: Envelope, state: Any, ctx: Context, facts: dict[str, Any] | None
    ) -> None:
        """What a handler did, written in `tx`: tasks closed and opened, the people's acts and the
        agency's reminders for each task opened, and the messages it sends, each in the outbox."""
        sender = Sender(agency=self.name, office=self.definition.office(state))
        # A closed task takes its pending reminders with it, so none fires after the step ended.
        if ctx.closing_dossier:
            tx.close_all_tasks(envelope.dossier_id, ctx.now)
        # Published later: each outbox row keeps the handling span's context (guichet/tracing.py).
        trace = tracing.current_context_headers()
        for closed in ctx.closed:
            tx.close_task(envelope.dossier_id, closed, ctx.now)
        # The people's acts go before the agency's own reminders: an act due at the very instant
        # a time limit runs out is within it, so it is handled first.
        for task in ctx.opened:
            tx.open_task(envelope.dossier_id, task.name, task.opened_at, task.deadline)
            if self.actors is not None:
                for act, at in self.actors.play(task, state, ctx.facts):
                    act_sender = Sender(agency=act.SENDER, office=self.definition.act_office(act, state))
                    tx.add_outbox(self._wrap(act, envelope, act_sender, at, None, facts), at, trace)
            for reminder, at in self.definition.reminders(task) if self.definition.reminders else ():
                tx.add_outbox(self._wrap(reminder, envelope, sender, at, None, facts), at, trace, task=task.name)
        for out in ctx.outgoing:
            tx.add_outbox(
                self._wrap(out.message, envelope, sender, out.due_at, out.deadline, facts),
                out.due_at,
                trace,
                task=out.while_open,
            )

    def _wrap(
        self,
        message: Message,
        cause: Envelope,
        sender: Sender,
        at: datetime,
        deadline: datetime | None,
        facts: dict[str, Any] | None,
    ) -> Envelope:
        envelope = wrap(
            message,
            dossier_id=cause.dossier_id,
            sender=sender,
            sent_at=at,
            causation_id=cause.message_id,
            deadline=deadline,
            facts=facts,
        )
        return self.trust.sign(envelope) if self.trust is not None else envelope


def _keeps_receipts(message: Message, ctx: Context, state: Any) -> None:
    """A receipt has no handler of the agency's: the runtime keeps it (guichet/delivery_receipts.py)."""
    raise AssertionError("a receipt is kept by the runtime, never handled")
