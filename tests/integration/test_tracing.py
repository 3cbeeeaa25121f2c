"""One trace per dossier on RabbitMQ: the four agencies in one process (each its Runner and register,
as the simulation runs them) with the OpenTelemetry SDK recording in memory. The dossier's trace
crosses the four agencies with every parent link intact, through a delayed retry (a handler that
fails once) and through the late queue's relay (a consulate that does not consume in time)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import ScaledClock
from guichet.register import Register
from guichet.runner import Runner
from guichet.topology import Topology
from schemas.base import AGENCIES
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, dossier, scenario, wait_until

pytestmark = pytest.mark.broker

TIME_SCALE = 100_000  # 48 hours to the consulate (II.A.1) in about 1.7 s
RETRY_DELAY = 0.3
# Every act comes quickly, so that the whole dossier takes a few seconds; the consulate's 48 hours are the test.
QUICK = {
    "ofii_transmission_days": 0.5,
    "smoe_instruction_days": 1,
    "ofii_consulat_hours": 1,
    "visa_instruction_days": 1,
    "arrival_days_after_visa": 0,
    "titre_deposit_days_after_arrival": 0,
    "prefecture_production_days": 1,
}


class FailsOnce:
    """The SMOE's first handling fails, as a transient bug would: the message goes round a wait queue."""

    def __init__(self):
        self.failed = False

    def wrap(self, handler):
        def handle(msg, ctx, state):
            if not self.failed:
                self.failed = True
                raise RuntimeError("the SMOE's application server answered 503")
            return handler(msg, ctx, state)

        return handle


@pytest.fixture
def four_agencies(amqp_url, namespace, tmp_path):
    topology = Topology(PARTIES, namespace=namespace, retry_delays=(RETRY_DELAY,))
    bus = Bus(amqp_url, topology)
    bus.declare()
    clock = ScaledClock(TIME_SCALE, datetime.now(UTC))
    runners = {}
    for name, definition in compose(DIRECTORY).agencies.items():
        if name == "smoe":
            once = FailsOnce()
            definition = replace(definition, handlers={t: once.wrap(h) for t, h in definition.handlers.items()})
        runners[name] = Runner(Agency(definition, Register.for_agency(name, tmp_path), clock), bus, expire_late=True)
    yield bus, clock, runners
    for runner in runners.values():
        runner.agency.register.close()
    bus.delete_topology()
    bus.close()


def test_one_dossier_one_trace_across_the_four_agencies_through_a_retry_and_the_late_queue(
    four_agencies, finished_spans, namespace
):
    bus, clock, runners = four_agencies
    filed = scenario(dossier(id="TRACE", title="carte_bleue_europeenne", facts=QUICK)).dossiers[0]
    bus.publish_envelope(filing("TRACE", filed, "circulaire-2012", clock.now(), DIRECTORY))
    ofii = runners["ofii"].agency.register
    relayed = []

    def step(hold_consulat: bool):
        """One round: publish what is due, let each agency take what waits, relay the late queue."""
        for runner in runners.values():
            runner.flush_outbox()
        for name, runner in runners.items():
            if not (hold_consulat and name == "consulat"):
                while runner.poll_once():
                    pass
        late = bus.get(bus.topology.queue_name("retard"))
        if late is not None:
            runners["ofii"].on_late(late)
            relayed.append(late)

    wait_until(lambda: step(hold_consulat=True) or relayed, 60, "the consulate's transmission in the late queue")
    wait_until(
        lambda: step(hold_consulat=False) or (ofii.state("TRACE") or {}).get("outcome") == "titre_remis",
        90,
        "the dossier at titre_remis",
    )

    spans = finished_spans()
    by_id = {s.context.span_id: s for s in spans}
    processed = [s for s in spans if s.attributes.get("guichet.dossier_id") == "TRACE"]
    trace_ids = {s.context.trace_id for s in processed}
    assert len(trace_ids) == 1, "every message of the dossier is handled in one trace"
    in_trace = [s for s in spans if s.context.trace_id in trace_ids]
    roots = [s for s in in_trace if s.parent is None]
    assert [r.name for r in roots] == [f"publish {namespace}.flux"], "the employer's filing starts the trace"
    assert all(s.parent.span_id in by_id for s in in_trace if s.parent is not None), "no parent link is broken"
    queues = {s.attributes["messaging.destination.name"] for s in in_trace if s.name.startswith("process ")}
    assert {bus.topology.queue_name(a) for a in (*AGENCIES, "retard")} <= queues

    def parent(span):
        return by_id[span.parent.span_id]

    # The delayed retry: the failed handling publishes to the wait queue, whose message is handled again.
    failed = next(s for s in in_trace if s.attributes.get("guichet.outcome") == "retrying")
    assert failed.name == f"process {namespace}.smoe" and not failed.status.is_ok
    retried = next(
        s
        for s in in_trace
        if s.name == f"process {namespace}.smoe"
        and s.attributes["messaging.message.id"] == failed.attributes["messaging.message.id"]
        and s.attributes["guichet.outcome"] == "processed"
    )
    wait_publish = parent(retried)
    assert wait_publish.name == f"publish {namespace}.vers.attente.{RETRY_DELAY:g}s" and parent(wait_publish) is failed

    # The late relay: OFII's transmission expired in the consulate's queue, the relay republished it.
    relay = next(s for s in in_trace if s.name == f"process {namespace}.retard")
    sent = parent(relay)
    assert sent.name == f"publish {namespace}.flux" and parent(sent).name == f"process {namespace}.ofii"
    consulat = [
        s
        for s in in_trace
        if s.name == f"process {namespace}.consulat" and s.attributes.get("guichet.outcome") == "processed"
    ]
    assert any(parent(parent(s)) is relay for s in consulat), "the consulate handles the relayed message in the trace"

    publish = sent.attributes
    assert publish["messaging.system"] == "rabbitmq" and publish["messaging.operation"] == "publish"
    assert publish["messaging.rabbitmq.destination.routing_key"].startswith("consulat.")
    assert publish["messaging.message.id"] == relay.attributes.get(
        "messaging.message.id", publish["messaging.message.id"]
    )
    assert (
        retried.attributes["messaging.operation"] == "process" and retried.attributes["messaging.system"] == "rabbitmq"
    )
