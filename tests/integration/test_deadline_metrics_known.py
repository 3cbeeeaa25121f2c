"""Every deadline alert a late flow raises was a series from the services' start (guichet/metrics.py,
services/deadline_watch.WATCHED_STEPS): a step watched but missing from the known ones would be born
at its first breach, which increase() does not see, and its alert would never fire."""

from guichet.metrics import KnownLabels, Metrics
from guichet_simulation.harness import Simulation
from tests.conftest import dossier, scenario

LATE_EVERYWHERE = {
    "ofii_transmission_days": 8,  # 5 days to the SMOE (II.A.1)
    "smoe_instruction_days": 14,  # 10 days for the decision (II.A.1)
    "ofii_consulat_hours": 80,  # 48 hours to the consulate (II.B)
    "visa_instruction_days": 20,  # 15 days for the visa (II.B)
    "prefecture_production_days": 70,  # two months for the card (II.C.2)
}
COUNTERS = ("guichet_deadline_alerts_total", "guichet_deadline_breaches_total", "guichet_late_transmissions_total")


def label_sets(metrics: Metrics, moved: bool) -> set[tuple[str, frozenset]]:
    return {
        (sample.name, frozenset(sample.labels.items()))
        for family in metrics.registry.collect()
        for sample in family.samples
        if sample.name in COUNTERS and (sample.value > 0 or not moved)
    }


def test_every_deadline_alert_of_a_late_flow_was_a_series_at_zero_from_the_start():
    simulation = Simulation(scenario(dossier(id="LATE", facts=LATE_EVERYWHERE)))
    simulation.run()
    raised = set()
    for runner in simulation.runners:
        definition = runner.agency.definition
        fresh = Metrics(definition.name, known=KnownLabels.of(definition, runner.bus.topology.parties))
        moved = label_sets(runner.metrics, moved=True)
        assert moved <= label_sets(fresh, moved=False), (definition.name, moved - label_sets(fresh, moved=False))
        raised |= moved
    breached = {dict(labels)["agency"] for name, labels in raised if name == "guichet_deadline_breaches_total"}
    assert breached == {"ofii", "smoe", "consulat", "prefecture"}, raised
