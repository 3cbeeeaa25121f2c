"""A service's counters read 0 from its start for every label set it knows: a series that appears
only at its first increment has no earlier sample, so increase() over it is empty and the alert on
the first breach (or late transmission, or filing in the error queue) after a restart never fires."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from guichet.metrics import KnownLabels, Metrics
from services.bootstrap import compose
from services.directory import Directory

ROOT = Path(__file__).resolve().parents[2]
GUICHET = compose(Directory.shipped())


def fresh(agency: str) -> dict[tuple[str, frozenset], float]:
    """The /metrics text of a service that has handled nothing yet, by (sample name, labels)."""
    metrics = Metrics(agency, known=KnownLabels.of(GUICHET.agencies[agency], GUICHET.parties))
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def series(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def test_a_fresh_service_exposes_its_breach_and_alert_series_at_zero_before_any_deadline():
    smoe = fresh("smoe")
    step = {"agency": "smoe", "step": "decision_autorisation_travail"}
    assert series(smoe, "guichet_deadline_breaches_total", **step) == 0
    assert series(smoe, "guichet_deadline_alerts_total", **step, kind="depassement") == 0
    assert series(smoe, "guichet_deadline_alerts_total", **step, kind="avertissement") == 0
    prefecture = fresh("prefecture")
    for step_name in ("fabrication_titre", "titre_famille"):
        assert series(prefecture, "guichet_deadline_breaches_total", agency="prefecture", step=step_name) == 0
    ofii = fresh("ofii")
    for step_name in ("transmission_smoe", "transmission_consulat", "traitement_autorisation_travail"):
        assert series(ofii, "guichet_deadline_breaches_total", agency="ofii", step=step_name) == 0


def test_the_relay_exposes_a_late_transmission_series_at_zero_for_every_agency_and_the_others_none():
    ofii = fresh("ofii")
    for agency in GUICHET.parties.agencies:
        assert series(ofii, "guichet_late_transmissions_total", agency=agency) == 0
    late = {"agency": "smoe", "step": "transmission_smoe", "kind": "transmission_en_retard"}
    assert series(ofii, "guichet_deadline_alerts_total", **late) == 0
    # Only the relay counts late transmissions: another agency's zero would be a series nobody moves.
    assert not [key for key in fresh("smoe") if key[0] == "guichet_late_transmissions_total"]


def test_a_fresh_service_exposes_deliveries_publishes_and_error_filings_at_zero():
    smoe = fresh("smoe")
    received = {"agency": "smoe", "type": "ofii.transmission_smoe"}
    for outcome in ("handled", "duplicate", "retried", "error_queue"):
        assert series(smoe, "guichet_messages_consumed_total", **received, outcome=outcome) == 0
    sent = {"agency": "smoe", "type": "smoe.decision_autorisation_travail"}
    assert series(smoe, "guichet_messages_published_total", **sent) == 0
    for reason in ("handler_error", "invalid_payload", "not_competent", "unknown_dossier"):
        assert series(smoe, "guichet_error_queue_total", agency="smoe", reason=reason) == 0
    assert series(smoe, "guichet_retries_total", agency="smoe", tier="delayed") == 0
    assert series(smoe, "guichet_ready", agency="smoe") == 0


def test_every_reason_the_runtime_or_a_state_machine_files_under_starts_at_zero():
    """A reason written in the code but missing from the known ones would be a series born at its first
    filing, which increase() does not see."""
    written = set()
    for path in [*(ROOT / "guichet").glob("*.py"), ROOT / "services" / "state_machine.py"]:
        text = path.read_text()
        written |= set(re.findall(r'\breason = "([a-z_]+)"', text))
        written |= set(re.findall(r'Refused\(\s*"([a-z_]+)"', text))
        written |= set(re.findall(r'"reason": "([a-z_]+)"', text))
        written |= set(re.findall(r'\breason="([a-z_]+)"', text))
        written |= set(re.findall(r'get\("reason", "([a-z_]+)"\)', text))
    assert {"handler_error", "not_competent", "relay_refused", "stale"} <= written
    known = set(KnownLabels.of(GUICHET.agencies["ofii"], GUICHET.parties).reasons)
    assert written <= known, written - known


def test_the_first_breach_after_a_restart_moves_a_series_that_was_already_there():
    ofii = Metrics("ofii", known=KnownLabels.of(GUICHET.agencies["ofii"], GUICHET.parties))
    labels = {"agency": "ofii", "step": "transmission_smoe"}
    assert ofii.registry.get_sample_value("guichet_deadline_breaches_total", labels) == 0
    ofii.breaches.labels(**labels).inc()
    assert ofii.registry.get_sample_value("guichet_deadline_breaches_total", labels) == 1


def test_a_register_that_does_not_answer_reads_register_up_0_and_the_scrape_still_succeeds(tmp_path):
    from guichet.clock import VirtualClock
    from guichet.register import Register
    from guichet.timeutil import PARIS

    clock = VirtualClock(datetime(2026, 1, 5, 9, tzinfo=PARIS))
    down = Metrics("smoe")
    down.watch_register(clock, tmp_path, "postgresql://smoe@127.0.0.1:1/guichet")  # nothing listens on port 1
    text = generate_latest(down.registry).decode()
    assert 'guichet_register_up{agency="smoe"} 0.0' in text
    assert 'guichet_ready{agency="smoe"} 0.0' in text, "the service's own series are still scraped"
    Register(str(tmp_path / "smoe.sqlite3"), "smoe").close()
    up = Metrics("smoe")
    up.watch_register(clock, tmp_path, None)
    text = generate_latest(up.registry).decode()
    assert 'guichet_register_up{agency="smoe"} 1.0' in text
    assert 'guichet_outbox_pending{agency="smoe"} 0.0' in text


def test_a_service_and_a_runner_built_from_the_composition_start_their_counters_at_zero(tmp_path):
    """The wiring, not only the class: what `guichet run` and the simulator build exposes the zeros."""
    from guichet.agency import Agency
    from guichet.bus import Bus
    from guichet.clock import VirtualClock
    from guichet.register import Register
    from guichet.runner import Runner
    from guichet.serve import Service, ServiceConfig
    from guichet.timeutil import PARIS
    from guichet.topology import Topology

    clock = VirtualClock(datetime(2026, 1, 5, 9, tzinfo=PARIS))
    definition = GUICHET.agencies["ofii"]
    config = ServiceConfig(
        definition=definition, parties=GUICHET.parties, broker_url="memory://", clock=clock, data_dir=tmp_path
    )
    service = Service(config)
    bus = Bus("memory://", Topology(GUICHET.parties, namespace="zero"), clock=clock)
    runner = Runner(Agency(definition, Register(str(tmp_path / "runner.sqlite3"), "ofii"), clock), bus)
    try:
        for metrics in (service.metrics, runner.metrics):
            text = generate_latest(metrics.registry).decode()
            assert 'guichet_deadline_breaches_total{agency="ofii",step="transmission_smoe"} 0.0' in text
            assert 'guichet_late_transmissions_total{agency="prefecture"} 0.0' in text
    finally:
        service.agency.register.close()
        runner.agency.register.close()
        bus.close()
