"""`guichet chaos`: the four services on RabbitMQ while a random one is killed with SIGKILL every
few seconds and restarted, and RabbitMQ itself is restarted; then every dossier is checked against
the outcome the same scenario reaches undisturbed, and lost or doubled work is counted.

- lost: a dossier that did not reach its expected outcome.
- duplicated: a dossier with a step recorded more times than undisturbed, or a card produced or
  handed over more than once.
"""

from __future__ import annotations

import random
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from guichet.bus import Bus
from guichet.clock import ScaledClock
from guichet.register_reader import RegisterReader, read_states
from guichet.settings import TLSSettings
from guichet.topology import Topology
from guichet_simulation.harness import Simulation
from guichet_simulation.launcher import ServiceProcesses
from schemas.base import AGENCIES
from services.directory import Directory
from services.intake import filing
from services.parties import PARTIES
from services.scenario import Scenario, parse_scenario
from services.views import dossier_view

if TYPE_CHECKING:
    from guichet.trust import Trust

DEFAULT_BROKER_RESTART = "rabbitmqctl stop_app && rabbitmqctl start_app"
QUICK = {
    "smoe_instruction_days": 3,
    "visa_instruction_days": 4,
    "arrival_days_after_visa": 2,
    "titre_deposit_days_after_arrival": 1,
    "prefecture_production_days": 10,
}
WORKER = {
    "surname": "DOE",
    "given_names": "Jane",
    "nationality": "IND",
    "address_abroad": {
        "line": "12 MG Road",
        "city": "Bengaluru",
        "country": "IND",
        "phone": "+91 80 0000 0000",
        "email": "jane@example.org",
    },
}
# Dossier shapes that reach different outcomes, so that chaos is checked on every kind of ending.
SHAPES = [
    ({"title": "salarie_en_mission", "family": {"spouse": True, "minor_children": 1}}, {}),
    ({"title": "carte_bleue_europeenne", "employment_department": "75", "residence_department": "75"}, {}),
    ({"title": "competences_et_talents", "employment_department": "69", "residence_department": "69"}, {}),
    ({"title": "salarie_en_mission"}, {"medical_no_shows": 2}),
    ({"title": "salarie_en_mission"}, {"remuneration_ok": False}),
    ({"title": "salarie_en_mission", "employment_department": "13", "residence_department": "13"}, {}),
    ({"title": "salarie_en_mission"}, {"titre_dossier_complete": False}),
    ({"title": "salarie_en_mission"}, {"medical_no_shows": 1}),
]


def chaos_scenario(count: int, directory: Directory | None = None) -> Scenario:
    dossiers = []
    for index in range(count):
        shape, facts = SHAPES[index % len(SHAPES)]
        dossiers.append(
            {
                "id": f"CHAOS-{index + 1:04d}",
                "filed_on": "2026-01-05",
                "employment_department": "92",
                "residence_department": "78",
                "employer": {"siret": "55208131766522", "name": "Exemple SA"},
                "worker": WORKER,
                "contract": {"kind": "cdi", "months": None, "monthly_gross_salary_eur": 5200},
                **shape,
                "facts": {**QUICK, **facts},
            }
        )
    return parse_scenario({"dossiers": dossiers}, directory or Directory.shipped(), "chaos scenario")


@dataclass
class ChaosResult:
    expected: dict[str, str]
    got: dict[str, str] = field(default_factory=dict)
    duplicated_ids: list[str] = field(default_factory=list)
    kills: list[str] = field(default_factory=list)
    broker_restarts: int = 0
    timed_out: bool = False

    @property
    def lost_ids(self) -> list[str]:
        return [d for d, outcome in self.expected.items() if self.got.get(d) != outcome]


def run_chaos(
    broker: str,
    count: int,
    *,
    time_scale: float = 200_000,
    kill_every: float = 3.0,
    broker_restart: str | None = DEFAULT_BROKER_RESTART,
    timeout: float = 600,
    seed: int | None = None,
    data_dir: Path | None = None,
    progress: Callable[[str], None] = lambda line: None,
    trust: Trust | None = None,
    tls: TLSSettings | None = None,
    directory: Directory | None = None,
) -> ChaosResult:
    """`trust`: when the services run signed, the filings are signed too, each with the key of the
    employer that files it (its SIRET), as the employers' portal would. `directory`: the services',
    the one shipped when none is given."""
    directory = directory or Directory.shipped()
    scenario = chaos_scenario(count, directory)
    reference = Simulation(scenario, directory=directory).run()
    expected = {d["id"]: d["outcome"] for d in reference["dossiers"]}
    expected_steps = {d["id"]: Counter(s["step"] for s in d["steps"]) for d in reference["dossiers"]}
    result = ChaosResult(expected=expected)
    rng = random.Random(seed)
    tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="guichet-chaos-")
    data = Path(data_dir or tmp.name)
    origin = datetime.now(UTC)
    namespace = f"chaos-{uuid.uuid4().hex[:10]}"
    fleet = ServiceProcesses(broker, namespace, data, time_scale, origin)
    bus = Bus(broker, Topology(PARTIES, namespace=namespace), tls=tls)
    try:
        bus.declare()
        fleet.start_all()
        clock = ScaledClock(time_scale, origin)
        for dossier in scenario.dossiers:
            envelope = filing(dossier.id, dossier, scenario.regime, clock.now(), directory)
            bus.publish_envelope(trust.sign(envelope) if trust is not None else envelope)
        bus.close()
        progress(f"chaos: {count} dossiers filed in namespace {namespace}; killing a service every {kill_every:g} s")
        deadline = time.monotonic() + timeout
        next_kill = time.monotonic() + kill_every
        while time.monotonic() < deadline:
            result.got = _outcomes(data)
            if all(result.got.get(d) == o for d, o in expected.items()) and result.broker_restarts >= bool(
                broker_restart
            ):
                break
            if time.monotonic() >= next_kill:
                victim = rng.choice(AGENCIES)
                fleet.kill(victim)
                result.kills.append(victim)
                progress(
                    f"chaos: SIGKILL {victim} ({len(result.kills)} kills); "
                    f"{sum(result.got.get(d) == o for d, o in expected.items())}/{count} dossiers at their outcome"
                )
                fleet.start(victim)
                if broker_restart and result.broker_restarts == 0 and len(result.kills) >= 2:
                    progress(f"chaos: restarting the broker: {broker_restart}")
                    subprocess.run(broker_restart, shell=True, check=True, capture_output=True, timeout=120)
                    result.broker_restarts += 1
                next_kill = time.monotonic() + kill_every
            time.sleep(0.2)
        else:
            result.timed_out = True
        result.got = _outcomes(data)
        fleet.stop_all()
        result.duplicated_ids = _duplicates(data, expected_steps)
        return result
    finally:
        fleet.stop_all()
        cleanup = Bus(broker, Topology(PARTIES, namespace=namespace), tls=tls)
        cleanup.delete_topology()
        cleanup.close()
        if tmp is not None:
            tmp.cleanup()


def _outcomes(data: Path) -> dict[str, str]:
    # Only the outcome is read, which no directory changes.
    directory = Directory.shipped()
    return {
        dossier_id: dossier_view(state, directory)["outcome"] for dossier_id, state in read_states("ofii", data).items()
    }


def _duplicates(data: Path, expected_steps: dict[str, Counter]) -> list[str]:
    doubled = set()
    for dossier_id, state in read_states("ofii", data).items():
        steps = Counter(s["step"] for s in state.get("steps", []))
        if any(n > expected_steps.get(dossier_id, Counter())[step] for step, n in steps.items()):
            doubled.add(dossier_id)
    for agency, type_ in (("prefecture", "prefecture.transmission_titre"), ("ofii", "ofii.remise_titre")):
        with RegisterReader(agency, data) as register:
            doubled.update(register.sent_more_than_once(type_))
    return sorted(doubled)
