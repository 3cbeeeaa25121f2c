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

import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import resources
from pathlib import Path
from typing import Callable

from guichet_tools.benchmark.stats import mib, peak_rss_kib, rate, summary
from guichet.bus import Bus
from guichet.clock import Clock, ScaledClock, SystemClock
from guichet.register import utc_text
from guichet_tools.simulation.harness import filing
from guichet_tools.simulation.scenario import ScenarioDossier, load_scenario
from guichet.topology import Topology
from schemas.base import AGENCIES
from schemas.facts import Facts
from services.parties import PARTIES

TITLE = "carte_bleue_europeenne"
SHAPE = f"{TITLE}, zero-delay facts"
DONE = "titre_remis"
POLL_SECONDS = 0.5
READY_SECONDS = 60.0
STOP_SECONDS = 10.0
DRAIN_SECONDS = 5.0

# Every delay a simulated person takes is zero, so that the bench measures the bus and not the
# calendar. A carte bleue européenne needs no medical visit, hence no convocation 30 days ahead
# (services/ofii/rules.py CONVOCATION_DAYS): the card is handed over as soon as it arrives.
ZERO_DELAYS = Facts(ofii_transmission_days=0, smoe_instruction_days=0, ofii_consulat_hours=0,
                    visa_instruction_days=0, arrival_days_after_visa=0, titre_deposit_days_after_arrival=0,
                    prefecture_production_days=0)


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
        }


def bench_dossier(index: int) -> ScenarioDossier:
    """The example's carte bleue dossier (Paris, a guichet-unique département) with zero delays."""
    scenario = load_scenario(resources.files("guichet_tools") / "examples" / "guichet-unique.json")
    template = next(d for d in scenario.dossiers if d.title == TITLE)
    return template.model_copy(update={"id": f"BENCH-{index:06d}", "facts": ZERO_DELAYS})


def run_bus(broker: str, dossiers: int, time_scale: float, timeout: float, data_dir: Path,
            prefetch: int = 20, progress: Callable[[str], None] = lambda line: None) -> BusRun:
    namespace = f"bench-{uuid.uuid4().hex[:10]}"
    origin = datetime.now(timezone.utc)
    clock: Clock = SystemClock() if time_scale == 1.0 else ScaledClock(time_scale, origin)
    result = BusRun(dossiers=dossiers, time_scale=time_scale)
    data_dir.mkdir(parents=True, exist_ok=True)
    bus = Bus(broker, Topology(PARTIES, namespace=namespace))
    services: dict[str, subprocess.Popen] = {}
    logs = []
    try:
        bus.declare()   # an unreachable broker fails here, before any process starts
        for agency in AGENCIES:
            log = open(data_dir / f"{agency}.log", "wb")
            logs.append(log)
            services[agency] = subprocess.Popen(
                [sys.executable, "-m", "guichet_tools", "--log-level", "warning", "run", agency, "--broker", broker,
                 "--namespace", namespace, "--data-dir", str(data_dir), "--time-scale", repr(float(time_scale)),
                 "--clock-origin", origin.isoformat(), "--prefetch", str(prefetch)],
                stdout=log, stderr=subprocess.STDOUT)
        _wait_ready(services, data_dir)
        progress(f"bus: 4 services consuming in namespace {namespace}; filing {dossiers} dossiers")

        template = bench_dossier(0)
        filing_sizes: list[int] = []
        started = time.time()
        for index in range(1, dossiers + 1):
            dossier = template.model_copy(update={"id": f"BENCH-{index:06d}"})
            envelope = filing(dossier.id, dossier, "circulaire-2012", clock.now())
            body = envelope.body().decode()
            bus.publish(body, envelope.routing_key, envelope.headers(), str(envelope.message_id))
            filing_sizes.append(len(body.encode()))
        filed = time.time()
        progress(f"bus: {dossiers} filings confirmed in {filed - started:.2f} s")

        deadline = time.monotonic() + timeout
        ofii_db = data_dir / "ofii.sqlite3"
        last_report = time.monotonic()
        while True:
            _check_alive(services, data_dir)
            outcomes = _outcomes(ofii_db)
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
        # VmHWM is the kernel's peak: one read before stopping gives the whole run's peak.
        result.peak_rss_kib = {agency: peak_rss_kib(proc.pid) for agency, proc in services.items()}
        _stop(services)
        try:
            result.error_queue = bus.depth(bus.topology.queue_name("erreurs"))
            result.unrouted = bus.depth(bus.topology.queue_name("non_routes"))
        except Exception:
            pass
        _measure(result, data_dir, origin, time_scale, started, filing_sizes)
        return result
    finally:
        _stop(services)
        for log in logs:
            log.close()
        bus.delete_topology()
        bus.close()


def _wait_ready(services: dict[str, subprocess.Popen], data_dir: Path) -> None:
    """A service is consuming once its loop wrote its first heartbeat (guichet/serve.py)."""
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        _check_alive(services, data_dir)
        if all((data_dir / f"{agency}.alive").exists() for agency in services):
            return
        time.sleep(0.05)
    raise BenchError(f"the services were not consuming after {READY_SECONDS:.0f} s")


def _check_alive(services: dict[str, subprocess.Popen], data_dir: Path) -> None:
    for agency, proc in services.items():
        if proc.poll() is not None:
            raise BenchError(f"the {agency} service exited with status {proc.returncode}; "
                             f"end of {data_dir / (agency + '.log')}:\n{_tail(data_dir / f'{agency}.log')}")


def _stop(services: dict[str, subprocess.Popen]) -> None:
    for proc in services.values():
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_SECONDS
    for proc in services.values():
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _readonly(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    conn.row_factory = sqlite3.Row
    return conn


def _outcomes(ofii_db: Path) -> dict:
    conn = _readonly(ofii_db)
    try:
        rows = conn.execute("SELECT json_extract(state, '$.outcome') AS outcome, COUNT(*) AS n "
                            "FROM dossiers GROUP BY outcome").fetchall()
        return {row["outcome"]: row["n"] for row in rows}
    finally:
        conn.close()


def _wait_outboxes(data_dir: Path, clock: Clock) -> None:
    """Let the last messages due (the hand-over notices) leave, so that the broker is settled."""
    deadline = time.monotonic() + DRAIN_SECONDS
    while time.monotonic() < deadline:
        now = utc_text(clock.now())
        pending = 0
        for agency in AGENCIES:
            conn = _readonly(data_dir / f"{agency}.sqlite3")
            try:
                pending += conn.execute("SELECT COUNT(*) FROM outbox WHERE published_at IS NULL AND due_at <= ?",
                                        (now,)).fetchone()[0]
            finally:
                conn.close()
        if not pending:
            return
        time.sleep(0.1)


def _measure(result: BusRun, data_dir: Path, origin: datetime, scale: float, started: float,
             filing_sizes: list[int]) -> None:
    origin_epoch = origin.timestamp()

    def real(text: str) -> float:
        """The real epoch second of a virtual instant written by a register."""
        return origin_epoch + (datetime.fromisoformat(text).timestamp() - origin_epoch) / scale

    conns = {agency: _readonly(data_dir / f"{agency}.sqlite3") for agency in AGENCIES}
    try:
        states = conns["ofii"].execute(
            "SELECT json_extract(state, '$.outcome') AS outcome, updated_at FROM dossiers").fetchall()
        result.outcomes = {}
        for row in states:
            result.outcomes[row["outcome"] or "en_cours"] = result.outcomes.get(row["outcome"] or "en_cours", 0) + 1
        done_at = [real(row["updated_at"]) for row in states if row["outcome"] == DONE]
        result.done = len(done_at)
        end = max(done_at) if done_at else time.time()
        result.wall_s = end - started

        published_by: dict[str, tuple[str, float]] = {}   # message_id -> (publishing service, confirm time)
        in_window = 0
        total = 0
        sizes = list(filing_sizes)
        for agency, conn in conns.items():
            for row in conn.execute("SELECT message_id, type, body, published_at FROM outbox "
                                    "WHERE published_at IS NOT NULL"):
                confirmed = real(row["published_at"])
                total += 1
                in_window += confirmed <= end
                result.timer_messages += confirmed <= end and _is_timer(row["type"])
                sizes.append(len(row["body"].encode()))
            for row in conn.execute("SELECT message_id, recorded_at FROM journal WHERE direction = 'out'"):
                published_by[row["message_id"]] = (agency, real(row["recorded_at"]))
        # Every filing was confirmed before the first dossier could be done.
        result.filings = len(filing_sizes)
        result.messages = len(filing_sizes) + in_window
        result.messages_total = len(filing_sizes) + total
        result.body_bytes = round(sum(sizes) / len(sizes)) if sizes else 0

        hops: dict[str, list[float]] = defaultdict(list)
        after_confirm: list[float] = []
        order: dict[str, float] = {}
        deliveries = 0
        for agency, conn in conns.items():
            for row in conn.execute("SELECT message_id, dossier_id, sent_at, recorded_at FROM journal "
                                    "WHERE direction = 'in'"):
                deliveries += 1
                handled = real(row["recorded_at"])
                publisher, confirmed = published_by.get(row["message_id"], ("bench", None))
                label = f"{publisher}->{agency}"
                hops[label].append((handled - real(row["sent_at"])) * 1000)
                if confirmed is not None:
                    after_confirm.append((handled - confirmed) * 1000)
                # Hops are listed in the order the first dossier went through them.
                if row["dossier_id"] == "BENCH-000001":
                    order[label] = min(order.get(label, handled), handled)
        result.hops_per_dossier = deliveries / result.dossiers if result.dossiers else 0.0
        labels = sorted(hops, key=lambda label: (order.get(label, float("inf")), label))
        result.latency_ms = {label: summary(hops[label]) for label in labels}
        result.latency_ms["all"] = summary([x for label in labels for x in hops[label]])
        result.latency_after_confirm_ms = {"all": summary(after_confirm)}
    finally:
        for conn in conns.values():
            conn.close()


def _is_timer(type_: str) -> bool:
    """A reminder or an échéance an agency scheduled for itself, or the alert one of them causes."""
    return any(part in type_ for part in (".veille.", ".alerte.", ".echeance."))


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) or "(empty)"
    except OSError:
        return "(no log)"

