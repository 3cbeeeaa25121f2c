"""The bus part of `guichet bench`: the four agency services as separate `guichet run` processes,
N dossiers filed with the DT-OFII, and what the registers recorded, read back as measurements.

Every figure comes from the agencies' own registers, not from the bench's polling:

- the run lasts from the first filing the bench publishes to the moment the DT-OFII recorded the
  last dossier as 'titre_remis' (the `dossiers.updated_at` of that state);
- a message counts when the broker confirmed its publish within that time: the bench's filings
  and the rows of the four outboxes whose `published_at` (written after the confirm) falls in it;
- a hop's latency is the receiving service's `journal` 'in' row (`recorded_at`: its handler
  starts) minus the envelope's `sent_at`, which is when the sending service's handler that caused
  the message started (the outbox's `due_at`), or when the bench built the filing.

All processes share one scaled clock (same origin and scale), so a virtual instant v is the real
instant origin + (v - origin) / scale, on the one system clock of the host.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from guichet.bus import Bus
from guichet.clock import Clock, ScaledClock, SystemClock
from guichet.private_files import private_folder
from guichet.register import utc_text
from guichet.register_reader import RegisterReader
from guichet.serve import DEFAULT_PREFETCH
from guichet.settings import TLSSettings
from guichet.topology import Topology
from guichet_simulation.benchmark.bus_measure import DONE, measure
from guichet_simulation.benchmark.recovery import START, STOP, RestartFailed, restart_broker
from guichet_simulation.benchmark.stats import mib, peak_rss_kib, rate
from guichet_simulation.launcher import LaunchError, ServiceProcesses
from schemas.base import AGENCIES
from schemas.facts import Facts
from services.directory import Directory
from services.intake import filing
from services.parties import PARTIES
from services.scenario import ScenarioDossier, load_scenario

if TYPE_CHECKING:
    from guichet.trust import Trust

TITLE = "carte_bleue_europeenne"
SHAPE = f"{TITLE}, zero-delay facts"
POLL_SECONDS = 0.5
READY_SECONDS = 60.0
STOP_SECONDS = 10.0
DRAIN_SECONDS = 5.0

# Every delay a simulated person takes is zero, so that the bench measures the bus and not the
# calendar. A carte bleue européenne needs no medical visit, hence no convocation 30 days ahead
# (services/ofii/rules.py CONVOCATION_DAYS): the card is handed over as soon as it arrives.
ZERO_DELAYS = Facts(
    ofii_transmission_days=0,
    smoe_instruction_days=0,
    ofii_consulat_hours=0,
    visa_instruction_days=0,
    arrival_days_after_visa=0,
    titre_deposit_days_after_arrival=0,
    prefecture_production_days=0,
)


class BenchError(Exception):
    """The bus part could not be measured (a service died, did not start, ...)."""


@dataclass
class BusRun:
    """What the bus part measured; `figures()` is the JSON of the bench."""

    dossiers: int
    time_scale: float
    done: int = 0
    outcomes: dict = field(default_factory=dict)
    wall_s: float | None = None
    messages: int = 0
    messages_total: int = 0
    filings: int = 0
    latency_ms: dict = field(default_factory=dict)
    latency_after_confirm_ms: dict = field(default_factory=dict)
    peak_rss_kib: dict = field(default_factory=dict)
    hops_per_dossier: float = 0.0
    body_bytes: int = 0
    error_queue: int | None = None
    unrouted: int | None = None
    timed_out: bool = False
    timer_messages: int = 0
    recovery: dict | None = None

    def figures(self) -> dict:
        return {
            "dossiers": self.dossiers,
            "dossiers_done": self.done,
            "outcomes": self.outcomes,
            "dossier_shape": SHAPE,
            "time_scale": self.time_scale,
            "timed_out": self.timed_out,
            "wall_s": None if self.wall_s is None else round(self.wall_s, 3),
            "dossiers_per_s": rate(self.done, self.wall_s or 0),
            "messages": self.messages,
            "filings": self.filings,
            "messages_published_total": self.messages_total,
            "messages_per_s": rate(self.messages, self.wall_s or 0),
            "timer_messages": self.timer_messages,
            "latency_ms": self.latency_ms,
            "latency_after_confirm_ms": self.latency_after_confirm_ms,
            "peak_rss_mib": {agency: mib(kib) for agency, kib in self.peak_rss_kib.items()},
            "deliveries_per_dossier": round(self.hops_per_dossier, 2),
            "body_bytes_mean": self.body_bytes,
            "error_queue": self.error_queue,
            "unrouted": self.unrouted,
            "recovery": self.recovery,
        }


def bench_dossier(index: int, directory: Directory) -> ScenarioDossier:
    """The example's carte bleue dossier (Paris, a guichet-unique département) with zero delays."""
    scenario = load_scenario(resources.files("guichet_simulation") / "examples" / "guichet-unique.json", directory)
    template = next(d for d in scenario.dossiers if d.title == TITLE)
    return template.model_copy(update={"id": f"BENCH-{index:06d}", "facts": ZERO_DELAYS})


def run_bus(
    broker: str,
    dossiers: int,
    time_scale: float,
    timeout: float,
    data_dir: Path,
    prefetch: int = DEFAULT_PREFETCH,
    progress: Callable[[str], None] = lambda line: None,
    dossiers_per_s: float | None = None,
    ofii_processes: int = 1,
    broker_restart: bool = False,
    trust: Trust | None = None,
    tls: TLSSettings | None = None,
    directory: Directory | None = None,
    namespace: str | None = None,
    before_stop: Callable[[int], None] = lambda done: None,
) -> BusRun:
    """`dossiers_per_s`: file at that pace instead of all at once; `ofii_processes`: DT-OFII processes;
    `broker_restart`: restart RabbitMQ before filing and measure the recovery (benchmark/recovery.py);
    `trust`: when the services run signed, each filing is signed with its employer's key (its SIRET);
    `directory`: the services' (the one shipped when none is given); `namespace`: the bus's, for a caller
    that watches it too (a new one when none is given); `before_stop(done)`: called with the dossiers done
    while the services still run."""
    directory = directory or Directory.shipped()
    namespace = namespace or f"bench-{uuid.uuid4().hex[:10]}"
    origin = datetime.now(UTC)
    clock: Clock = SystemClock() if time_scale == 1.0 else ScaledClock(time_scale, origin)
    result = BusRun(dossiers=dossiers, time_scale=time_scale)
    private_folder(data_dir)  # the services' registers: a folder created 0700
    bus = Bus(broker, Topology(PARTIES, namespace=namespace), tls=tls)
    services = ServiceProcesses(
        broker,
        namespace,
        data_dir,
        time_scale,
        origin,
        options=["--prefetch", str(prefetch)],
        replicas={"ofii": ofii_processes},
    )
    try:
        bus.declare()  # an unreachable broker fails here, before any process starts
        try:
            services.start_all(READY_SECONDS)
        except LaunchError as exc:
            raise BenchError(str(exc)) from None
        progress(f"bus: 4 services consuming in namespace {namespace}; filing {dossiers} dossiers")
        back = None
        if broker_restart:
            progress(f"bus: restarting the broker ({STOP}, {START})")
            try:
                back = restart_broker(broker)
            except RestartFailed as exc:
                raise BenchError(str(exc)) from None
            progress("bus: the broker's port answers again; filing")

        template = bench_dossier(0, directory)
        filing_sizes: list[int] = []
        started = time.time()
        for index in range(1, dossiers + 1):
            if dossiers_per_s:
                # Pacing the offered load (not waiting on a result): the next filing at its instant.
                time.sleep(max(0.0, started + (index - 1) / dossiers_per_s - time.time()))
            dossier = template.model_copy(update={"id": f"BENCH-{index:06d}"})
            envelope = filing(dossier.id, dossier, "circulaire-2012", clock.now(), directory)
            if trust is not None:
                envelope = trust.sign(envelope)
            if back is not None and index == 1:
                _publish_once_accepted(bus, envelope)
            else:
                bus.publish_envelope(envelope)
            if back is not None and index == 1:
                result.recovery = {"first_filing_confirmed_s": round(time.time() - back, 3)}
            filing_sizes.append(len(envelope.body()))
        filed = time.time()
        progress(f"bus: {dossiers} filings confirmed in {filed - started:.2f} s")

        deadline = time.monotonic() + timeout
        last_report = time.monotonic()
        while True:
            try:
                services.check_alive()
            except LaunchError as exc:
                raise BenchError(str(exc)) from None
            outcomes = _outcomes(data_dir)
            done = outcomes.get(DONE, 0)
            finished = sum(n for outcome, n in outcomes.items() if outcome is not None)
            if finished >= dossiers:
                break
            if time.monotonic() > deadline:
                result.timed_out = True
                progress(f"bus: timeout after {timeout:.0f} s: {done} of {dossiers} dossiers done")
                break
            if time.monotonic() - last_report >= 5:
                progress(f"bus: {done}/{dossiers} dossiers done")
                last_report = time.monotonic()
            time.sleep(POLL_SECONDS)
        if not result.timed_out:
            _wait_outboxes(data_dir, clock)
        before_stop(done)
        # VmHWM is the kernel's peak: one read before stopping gives the whole run's peak.
        result.peak_rss_kib = {agency: peak_rss_kib(proc.pid) for agency, proc in services.processes.items()}
        services.stop_all(STOP_SECONDS)
        try:
            result.error_queue = bus.depth(bus.topology.queue_name("erreurs"))
            result.unrouted = bus.depth(bus.topology.queue_name("non_routes"))
        except Exception:
            pass
        measure(result, data_dir, origin, time_scale, started, filing_sizes)
        if back is not None:
            result.recovery["first_consumed_s"] = _first_consumed(data_dir, origin, time_scale, back)
        return result
    finally:
        services.stop_all(STOP_SECONDS)
        bus.delete_topology()
        bus.close()


def _publish_once_accepted(bus: Bus, envelope) -> None:
    """Just after a restart the port may answer before the broker accepts connections: try again."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            bus.publish_envelope(envelope)
            return
        except Exception:  # a reset or refused connection while the broker boots
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)  # retrying a publish, no message to wait on


def _first_consumed(data_dir: Path, origin: datetime, time_scale: float, back: float) -> float | None:
    """Seconds from the broker being back to the DT-OFII's first handled delivery (real time)."""
    with RegisterReader("ofii", data_dir) as ofii:
        first = ofii.first_received_at()
    if first is None:
        return None
    virtual = datetime.fromisoformat(first)
    real = origin.timestamp() + (virtual - origin).total_seconds() / time_scale
    return round(real - back, 3)


def _outcomes(data_dir: Path) -> dict:
    with RegisterReader("ofii", data_dir) as ofii:
        return ofii.outcome_counts()


def _wait_outboxes(data_dir: Path, clock: Clock) -> None:
    """Let the last messages due (the hand-over notices) leave, so that the broker is settled."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        now = utc_text(clock.now())
        pending = 0
        for agency in AGENCIES:
            with RegisterReader(agency, data_dir) as register:
                pending += register.pending_outbox(now)
        if not pending:
            return
        time.sleep(0.1)
