"""One conformance run: a reference run of the kit's dossiers with the Python agencies in process,
then the same dossiers on the live bus, where the kit's processes play the three other agencies
and the connector under test plays its own; what each side did is gathered for the checks."""

from __future__ import annotations

import math
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from guichet.bus import Bus
from guichet.clock import ScaledClock
from guichet.delivery_receipts import is_receipt
from guichet.register_reader import read_states
from guichet.timeutil import at_opening, paris
from guichet.topology import Topology
from guichet.trust import Trust
from guichet_simulation.conformance.cases import Case, cases_for, dossier_id, scenario_for
from guichet_simulation.conformance.probes import probe
from guichet_simulation.conformance.tap import Tap
from guichet_simulation.harness import Simulation
from guichet_simulation.launcher import ServiceProcesses
from schemas.base import AGENCIES
from services.directory import Directory
from services.intake import filing
from services.parties import PARTIES
from services.views import dossier_view

POLL_SECONDS = 0.05
# Real seconds a reference run is given before the live filing day comes.
REFERENCE_SECONDS = 1.0


@dataclass(frozen=True)
class Options:
    agency: str
    broker: str
    namespace: str
    time_scale: float
    origin: datetime
    directory: Directory
    trust: Trust | None = None
    # The signing options the kit's own agencies are started with (--key-directory, --keys-dir).
    signing_options: tuple[str, ...] = ()
    # Real seconds each dossier may take beyond what its reference run says it needs.
    timeout: float | None = None
    work_dir: Path | None = None
    # How many days a date may differ from the reference's (tolerance_for gives the default).
    date_tolerance: int = 0


def tolerance_for(time_scale: float) -> int:
    """The days 0.3 real second spans on the bus clock, rounded up: none in real time or nearly."""
    return max(0, math.ceil(0.3 * time_scale / 86400 - 0.05))


@dataclass
class Dossier:
    """One dossier of the run: what the reference did and what the live bus did."""

    case: Case
    id: str
    reference: dict[str, Any]
    reference_sent: list[dict[str, Any]]
    live: dict[str, Any] | None = None
    deadline: float = 0.0
    waited_for: str | None = None


@dataclass
class Run:
    options: Options
    run_id: str
    dossiers: list[Dossier] = field(default_factory=list)
    tap: Tap | None = None
    probes: dict[str, Any] = field(default_factory=dict)
    logs: Path | None = None

    @property
    def observes_views(self) -> bool:
        """The dossier's view is read from the DT-OFII's register: the kit's own, unless the DT-OFII
        is the connector under test, whose messages are then all there is to compare."""
        return self.options.agency != "ofii"

    def connector_sent(self, dossier: Dossier) -> list[dict[str, Any]]:
        assert self.tap is not None
        return [
            s.envelope
            for s in self.tap.sent_by(self.options.agency, dossier.id)
            if s.envelope is not None
            and s.envelope.get("recipient") != self.options.agency
            and not is_receipt(str(s.envelope.get("type")))  # checked apart (checks.py): no reference run signs
        ]


def reference_run(options: Options, run_id: str, filed_on) -> list[Dossier]:
    scenario = scenario_for(options.agency, run_id, filed_on, options.directory)
    cases = {dossier_id(run_id, c): c for c in cases_for(options.agency)}
    dossiers = []
    with Simulation(scenario, directory=options.directory).session() as outcome:
        registers = {r.agency.name: r.agency.register for r in outcome._runners}
        for view in outcome.dossiers():
            # What the agency sent to the others; what it sends itself (its own people's acts) is
            # how one implementation works, not what the contract asks.
            sent = [
                {
                    "type": row["type"],
                    "recipient": row["recipient"],
                    "sent_at": row["sent_at"],
                    "deadline": row["deadline"],
                }
                for row in registers[options.agency].journal_of(view["id"])
                if row["direction"] == "out" and row["recipient"] != options.agency
            ]
            dossiers.append(Dossier(cases[view["id"]], view["id"], view, sent))
    return dossiers


def live_run(options: Options) -> Run:
    clock = ScaledClock(options.time_scale, options.origin)
    run = Run(options, uuid.uuid4().hex[:6])
    tmp = None if options.work_dir else tempfile.TemporaryDirectory(prefix="guichet-conformance-")
    work = Path(options.work_dir or tmp.name)
    run.logs = work
    topology = Topology(PARTIES, namespace=options.namespace)
    bus = Bus(options.broker, topology)
    others = tuple(a for a in AGENCIES if a != options.agency)
    fleet = ServiceProcesses(
        options.broker,
        options.namespace,
        work / "data",
        options.time_scale,
        options.origin,
        agencies=others,
        options=list(options.signing_options),
        log_dir=work,
    )
    try:
        bus.declare()
        run.tap = Tap(options.broker, topology)
        fleet.start_all()
        _file(run, bus, clock, _reference(run, clock))
        _follow(run, fleet, work / "data")
        probe(run, bus, clock, lambda: _views(run, work / "data"))
    finally:
        fleet.stop_all()
        if run.tap is not None:
            run.tap.close()
        bus.close()
        if tmp is not None:
            run.logs = None
            tmp.cleanup()
    return run


def _reference(run: Run, clock: ScaledClock) -> datetime:
    """Run the reference for a filing day still ahead on the bus clock once it is done, and give
    the instant to file at: the opening of that day, as the simulator files."""
    while True:
        ahead = timedelta(days=1) + timedelta(seconds=REFERENCE_SECONDS * run.options.time_scale)
        filed_on = (paris(clock.now()) + ahead).date()
        run.dossiers = reference_run(run.options, run.run_id, filed_on)
        if clock.now() < at_opening(filed_on):
            return at_opening(filed_on)


def _file(run: Run, bus: Bus, clock: ScaledClock, at: datetime) -> None:
    """File every dossier at the opening of the day the reference filed it, on the bus's clock."""
    options = run.options
    wait_until(lambda: clock.now() >= at, clock.real_seconds_until(at) + 5)
    scenario = scenario_for(options.agency, run.run_id, at.date(), options.directory)
    for d, dossier in zip(run.dossiers, scenario.dossiers, strict=True):
        envelope = filing(dossier.id, dossier, scenario.regime, at, options.directory)
        bus.publish_envelope(options.trust.sign(envelope) if options.trust is not None else envelope)
        needs = (paris(datetime.fromisoformat(d.reference["steps"][-1]["at"])) - at).total_seconds()
        allowed = options.timeout if options.timeout is not None else 2 * needs / options.time_scale + 20
        d.deadline = time.monotonic() + needs / options.time_scale + allowed


def _views(run: Run, data: Path) -> dict[str, dict[str, Any]]:
    if not run.observes_views:
        return {}
    states = read_states("ofii", data) if (data / "ofii.sqlite3").exists() else {}
    return {i: dossier_view(s, run.options.directory) for i, s in states.items()}


def _done(run: Run, d: Dossier) -> bool:
    if len(run.connector_sent(d)) < len(d.reference_sent):
        return False
    if not run.observes_views:
        return True
    return (
        d.live is not None
        and d.live["outcome"] == d.reference["outcome"]
        and len(d.live["steps"]) >= len(d.reference["steps"])
    )


def _follow(run: Run, fleet: ServiceProcesses, data: Path) -> None:
    """Until every dossier went as far as its reference, or its time ran out."""
    assert run.tap is not None
    pending = list(run.dossiers)
    while pending:
        fleet.check_alive()
        run.tap.drain()
        views = _views(run, data)
        for d in list(pending):
            d.live = views.get(d.id, d.live)
            if _done(run, d):
                pending.remove(d)
            elif time.monotonic() > d.deadline:
                d.waited_for = _waiting_for(run, d)
                pending.remove(d)
        if pending:
            time.sleep(POLL_SECONDS)


def _waiting_for(run: Run, d: Dossier) -> str:
    """The first thing the reference run did that the live run did not: a step, or a message."""
    seen = [s["step"] for s in (d.live or {}).get("steps", [])]
    for step in d.reference["steps"]:
        if step["step"] in seen:
            seen.remove(step["step"])
        elif run.observes_views:
            return f"step {step['step']} ({step['from']} -> {step['to'] or '-'})"
    sent = [m["type"] for m in run.connector_sent(d)]
    for message in d.reference_sent:
        if message["type"] in sent:
            sent.remove(message["type"])
        else:
            return f"message {message['type']} from {run.options.agency} to {message['recipient']}"
    return "the end of the dossier"


def wait_until(condition, seconds: float, poll: float = POLL_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(poll)
    return True
