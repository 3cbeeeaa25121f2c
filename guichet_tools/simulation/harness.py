"""Runs the four agencies in one process over the bus on a virtual clock.

Each round publishes what is due and lets every agency take what waits in its queue; when
nothing moves any more, the clock jumps to the next due message (a filing, a reminder, an act
of the simulated people). Agencies poll their queues, so that "nothing moves" is certain on the
in-memory transport and on RabbitMQ alike: every publish was confirmed and every queue is empty.
"""
from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable

import structlog

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Envelope, Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet_tools.simulation.scenario import Scenario
from guichet.timeutil import at_opening
from guichet.settings import TLSSettings
from guichet.topology import Topology
from services.views import biometric_report, biometric_tables, dossier_view
from schemas.autorisation_travail import DepotAutorisationTravail
from schemas.competences_talents import DemandeCompetencesTalents
from schemas.plateforme import DemandeAutorisationTravailEnLigne
from services import single_window
from services.registry import definitions
from services.parties import PARTIES

log = structlog.get_logger("guichet.simulate")

MAX_ROUNDS = 1_000_000


def first_message(dossier):
    """Where a dossier starts: the worker's application at the consulate for 'compétences et talents'
    (II.A.2); since 2021 the employer's online request to the platform; else the employer's deposit
    at the DT-OFII (II.A.1, I.E)."""
    if single_window.applied_for_at_the_consulate(dossier):
        return DemandeCompetencesTalents(dossier=dossier)
    if single_window.filed_online(dossier):
        return DemandeAutorisationTravailEnLigne(dossier=dossier)
    return DepotAutorisationTravail(dossier=dossier)


def filing(dossier_id: str, scenario_dossier, regime: str, at: datetime) -> Envelope:
    """The filing that opens a dossier, with the facts the simulated people will follow."""
    message = first_message(scenario_dossier.filed(regime))
    office = scenario_dossier.employer.name if message.SENDER == "employeur" else None
    return wrap(message, dossier_id=dossier_id, sender=Sender(agency=message.SENDER, office=office),
                sent_at=at, facts=scenario_dossier.facts.model_dump(mode="json"))


@dataclass
class Progress:
    """What a progress line shows: the dossiers filed and the messages moved so far."""
    filed: int = 0
    messages: int = 0
    written: int = 0


@dataclass
class Simulation:
    scenario: Scenario
    broker_url: str = "memory://"
    data_dir: Path | None = None
    tls: TLSSettings | None = None
    # Called after each round that moved something, with what was filed so far and the virtual time.
    on_progress: Callable[["Progress", datetime | None], None] | None = None
    runners: list[Runner] = field(default_factory=list)
    progress: "Progress" = field(default_factory=lambda: Progress())

    def run(self) -> dict:
        namespace = f"guichet-sim-{uuid.uuid4().hex[:10]}"
        bus = Bus(self.broker_url, Topology(PARTIES, namespace=namespace), tls=self.tls)
        tmp = None
        if self.data_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix="guichet-sim-")
            data_dir = Path(tmp.name)
        else:
            data_dir = Path(self.data_dir)
        filings = sorted(((at_opening(d.filed_on), d) for d in self.scenario.dossiers), key=lambda x: x[0])
        clock = VirtualClock(filings[0][0])
        try:
            bus.declare()
            for name, definition in definitions().items():
                # Registers in a temporary folder are deleted at the end: no flush to disk per commit.
                register = Register.for_agency(name, data_dir, durable=self.data_dir is not None)
                agency = Agency(definition, register, clock)
                self.runners.append(Runner(agency, bus))
            self._loop(bus, clock, filings)
            return self._report()
        finally:
            for runner in self.runners:
                runner.agency.register.close()
            if not bus.is_memory:
                bus.delete_topology()
            bus.close()
            if tmp is not None:
                tmp.cleanup()

    def _loop(self, bus: Bus, clock: VirtualClock, filings: list) -> None:
        pending = list(filings)
        for _ in range(MAX_ROUNDS):
            while pending and pending[0][0] <= clock.now():
                at, dossier = pending.pop(0)
                envelope = filing(dossier.id, dossier, self.scenario.regime, at)
                bus.publish_envelope(envelope)
            moved = sum(runner.flush_outbox(clock.now()) for runner in self.runners)
            for runner in self.runners:
                while handled := runner.poll_batch():
                    moved += handled
            if moved:
                self.progress.filed = len(filings) - len(pending)
                self.progress.messages += moved
                if self.on_progress is not None:
                    self.on_progress(self.progress, clock.now())
                continue
            due = [r.agency.register.next_due() for r in self.runners] + [p[0] for p in pending[:1]]
            due = [d for d in due if d is not None]
            if not due:
                return
            clock.advance_to(min(due))
        raise RuntimeError("simulation did not settle")

    def _report(self) -> dict:
        by_name = {r.agency.name: r.agency.register for r in self.runners}
        ofii_states = dict(by_name["ofii"].states())
        prefecture_states = [s for _, s in by_name["prefecture"].states()]
        dossiers = [dossier_view(ofii_states[d.id]) for d in self.scenario.dossiers if d.id in ofii_states]
        return {
            "dossiers": dossiers,
            "biometric_report": biometric_report(prefecture_states),
            "biometric_tables": biometric_tables(prefecture_states),
            "errors": sum(r.failed for r in self.runners),
            "failed": self._failed(ofii_states),
        }

    def _failed(self, ofii_states: dict) -> list[dict]:
        """Every dossier a message of which ended in the error queue, or that the DT-OFII never
        recorded: none may be missing from the result without a word."""
        failures = [f for r in self.runners for f in r.failures]
        failed = []
        for d in self.scenario.dossiers:
            own = [f for f in failures if f["dossier_id"] == d.id]
            if own or d.id not in ofii_states:
                first = own[0] if own else {"agency": "ofii", "type": None, "error": "never recorded by the DT-OFII"}
                failed.append({"id": d.id, "agency": first["agency"], "type": first["type"],
                               "error": first["error"]})
        return failed
