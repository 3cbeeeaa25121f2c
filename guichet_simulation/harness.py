"""Runs the four agencies in one process over the bus on a virtual clock.

Each round publishes what is due and lets every agency take what waits in its queue; when
nothing moves any more, the clock jumps to the next due message (a filing, a reminder, an act
of the simulated people). Agencies poll their queues, so that "nothing moves" is certain on the
in-memory transport and on RabbitMQ alike: every publish was confirmed and every queue is empty.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import structlog

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.receipt import Freshness
from guichet.register import Register
from guichet.runner import Runner
from guichet.settings import TLSSettings
from guichet.timeutil import at_opening
from guichet.topology import Topology
from guichet_simulation.scenario_file import ScenarioFile
from services.bootstrap import compose
from services.directory import Directory
from services.intake import filing
from services.parties import PARTIES
from services.scenario import Scenario
from services.views import biometric_report, biometric_tables, dossier_view

log = structlog.get_logger("guichet.simulate")

MAX_ROUNDS = 1_000_000


@dataclass
class Progress:
    """What a progress line shows: the dossiers filed and the messages moved so far."""

    filed: int = 0
    messages: int = 0
    written: int = 0


class InMemoryScenario:
    """A scenario already in memory (a test's, the example's), read as a scenario file is."""

    def __init__(self, scenario: Scenario):
        self._scenario = scenario
        self.regime = scenario.regime
        self.ids = [d.id for d in scenario.dossiers]

    def dossier(self, index: int):
        return self._scenario.dossiers[index]

    def filings(self) -> list[tuple[datetime, int]]:
        return sorted((at_opening(d.filed_on), index) for index, d in enumerate(self._scenario.dossiers))


@dataclass
class Simulation:
    scenario: Scenario | ScenarioFile
    broker_url: str = "memory://"
    data_dir: Path | None = None
    tls: TLSSettings | None = None
    # How far a sender's date may stray from each agency's clock (guichet/receipt.py).
    freshness: Freshness | None = None
    # Called after each round that moved something, with what was filed so far and the virtual time.
    on_progress: Callable[[Progress, datetime | None], None] | None = None
    runners: list[Runner] = field(default_factory=list)
    progress: Progress = field(default_factory=lambda: Progress())
    # The directory of services the agencies read: the command's (Settings.directory_of_services).
    directory: Directory = field(default_factory=Directory.shipped)

    def run(self) -> dict:
        """The whole result in memory; `session` gives it piece by piece."""
        with self.session() as outcome:
            return outcome.as_dict()

    @contextmanager
    def session(self) -> Iterator[Outcome]:
        """Run the scenario to its end and give what became of it, read from the registers while
        they are open (they are deleted afterwards, unless kept in `data_dir`)."""
        # A scenario file, or a shard of one, is read as it is; a Scenario object through the adapter.
        source = InMemoryScenario(self.scenario) if isinstance(self.scenario, Scenario) else self.scenario
        namespace = f"guichet-sim-{uuid.uuid4().hex[:10]}"
        filings = source.filings()
        clock = VirtualClock(filings[0][0])
        # The embedded broker keeps its TTLs (a delayed retry) on the virtual clock too.
        bus = Bus(self.broker_url, Topology(PARTIES, namespace=namespace), tls=self.tls, clock=clock)
        tmp = None
        if self.data_dir is None:
            tmp = tempfile.TemporaryDirectory(prefix="guichet-sim-")
            data_dir = Path(tmp.name)
        else:
            data_dir = Path(self.data_dir)
        try:
            bus.declare()
            for name, definition in compose(self.directory).agencies.items():
                # Registers in a temporary folder are deleted at the end: no flush to disk per commit.
                register = Register.for_agency(name, data_dir, durable=self.data_dir is not None)
                self.runners.append(Runner(Agency(definition, register, clock, freshness=self.freshness), bus))
            self._loop(bus, clock, source, filings)
            yield Outcome(source, self.runners, self.directory)
        finally:
            for runner in self.runners:
                runner.agency.register.close()
            bus.delete_topology()
            bus.close()
            if tmp is not None:
                tmp.cleanup()

    def _loop(self, bus: Bus, clock: VirtualClock, source, filings: list[tuple[datetime, int]]) -> None:
        filed = 0
        # Each agency's next due outbox instant, read from its register again only
        # once it handled or sent something: nothing else adds to an agency's outbox here.
        next_due: dict[Runner, datetime | None] = {}
        for _ in range(MAX_ROUNDS):
            now = clock.now()
            while filed < len(filings) and filings[filed][0] <= now:
                at, index = filings[filed]
                dossier = source.dossier(index)
                bus.publish_envelope(filing(dossier.id, dossier, source.regime, at, self.directory))
                filed += 1
            moved = 0
            for runner in self.runners:
                if runner not in next_due:
                    next_due[runner] = runner.agency.register.next_due()
                due = next_due[runner]
                if due is not None and due <= now and (sent := runner.flush_outbox(now)):
                    moved += sent
                    del next_due[runner]
            for runner in self.runners:
                while handled := runner.poll_batch():
                    moved += handled
                    next_due.pop(runner, None)
            self._deliver_outside(bus)
            if moved:
                self.progress.filed = filed
                self.progress.messages += moved
                if self.on_progress is not None:
                    self.on_progress(self.progress, now)
                continue
            due = [next_due[r] if r in next_due else r.agency.register.next_due() for r in self.runners]
            # What the bus holds for later (a delayed retry in its wait queue), on the same clock.
            due.append(bus.next_due())
            due = [d for d in due if d is not None] + ([filings[filed][0]] if filed < len(filings) else [])
            if not due:
                return
            clock.advance_to(min(due))
        raise RuntimeError("simulation did not settle")

    @staticmethod
    def _deliver_outside(bus: Bus) -> None:
        """The employers' portal and the ministry take what was sent to them: nobody reads their
        queues in a simulation, where a year of copies would otherwise pile up in memory."""
        for owner in PARTIES.outside:
            queue = bus.topology.queue_name(owner)
            while (message := bus.get(queue)) is not None:
                message.ack()


class Outcome:
    """What became of a scenario, read from the agencies' registers: each dossier as the DT-OFII
    knows it (in the scenario's order, one at a time), annex 2 from the préfectures', the errors."""

    def __init__(self, source, runners: list[Runner], directory: Directory):
        self._source = source
        self._directory = directory
        self._runners = runners
        self._registers = {r.agency.name: r.agency.register for r in runners}

    @property
    def errors(self) -> int:
        return sum(r.failed for r in self._runners)

    def views(self) -> Iterator[tuple[str, dict | None]]:
        """Each dossier of the scenario with its view, None when the DT-OFII never recorded it."""
        ofii = self._registers["ofii"]
        for dossier_id in self._source.ids:
            state = ofii.state(dossier_id)
            yield dossier_id, dossier_view(state, self._directory) if state is not None else None

    def dossiers(self) -> Iterator[dict]:
        return (view for _, view in self.views() if view is not None)

    def _prefecture_states(self) -> Iterator[dict]:
        return (state for _, state in self._registers["prefecture"].iter_states())

    def biometric_report(self) -> dict:
        return biometric_report(self._prefecture_states())

    def biometric_tables(self) -> dict:
        return biometric_tables(self._prefecture_states())

    def failed(self) -> list[dict]:
        """Every dossier a message of which ended in the error queue, or that the DT-OFII never
        recorded: none may be missing from the result without a word."""
        first_failure: dict[str, dict] = {}
        for runner in self._runners:
            for f in runner.failures:
                first_failure.setdefault(f["dossier_id"], f)
        recorded = self._registers["ofii"].dossier_ids()
        failed = []
        for dossier_id in self._source.ids:
            own = first_failure.get(dossier_id)
            if own is not None or dossier_id not in recorded:
                first = own or {"agency": "ofii", "type": None, "error": "never recorded by the DT-OFII"}
                failed.append(
                    {"id": dossier_id, "agency": first["agency"], "type": first["type"], "error": first["error"]}
                )
        return failed

    def as_dict(self) -> dict:
        return {
            "dossiers": list(self.dossiers()),
            "biometric_report": self.biometric_report(),
            "biometric_tables": self.biometric_tables(),
            "errors": self.errors,
            "failed": self.failed(),
        }
