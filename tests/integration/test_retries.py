"""Failure in tiers: immediate retries, delayed retries counted in a header, then the error queue.
Once on the embedded transport (its wait queues on the virtual clock) and once on RabbitMQ (wait queues)."""

from datetime import date, datetime

import pytest

from guichet.agency import Agency, AgencyDefinition
from guichet.bus import Bus
from guichet.clock import SystemClock, VirtualClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.runner import ATTEMPTS, Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from schemas.titre import Recepisse
from services.ofii.state import OfiiDossier
from services.parties import PARTIES
from tests.conftest import wait_until

DELAYS = (0.2, 0.4, 0.6)


class Flaky:
    """A handler that fails its first `failures` calls, then records the message."""

    def __init__(self, failures: int):
        self.failures, self.calls = failures, 0

    def __call__(self, msg, ctx, d):
        self.calls += 1
        if self.calls <= self.failures:
            raise RuntimeError(f"failure {self.calls}")
        d.recepisse = True


@pytest.fixture
def flaky_ofii(broker, namespace, tmp_path):
    def make(failures: int):
        handler = Flaky(failures)
        definition = AgencyDefinition(name="ofii", state_model=OfiiDossier, handlers={Recepisse: handler})
        clock = VirtualClock(datetime(2026, 1, 5, 9, tzinfo=PARIS)) if broker == "memory://" else SystemClock()
        bus = Bus(broker, Topology(PARTIES, namespace=namespace, retry_delays=DELAYS), clock=clock)
        bus.declare()
        runner = Runner(Agency(definition, Register(str(tmp_path / "ofii.sqlite3"), "ofii"), clock), bus)
        made.append(runner)
        return runner, handler

    made: list[Runner] = []
    yield make
    for runner in made:
        runner.bus.delete_topology()
        runner.bus.close()
        runner.agency.register.close()


def send_recepisse(runner: Runner) -> None:
    env = wrap(
        Recepisse(valid_until=date(2026, 6, 1)),
        dossier_id="D-1",
        sender=Sender(agency="prefecture"),
        sent_at=runner.agency.clock.now(),
    )
    runner.bus.publish_envelope(env)


def next_delivery(runner: Runner) -> None:
    """Let the delay pass (virtually, or on the broker's clock) until the message is back and handled."""
    if isinstance(runner.agency.clock, VirtualClock):
        runner.agency.clock.advance_to(runner.next_due())
        runner.flush_outbox()
    wait_until(runner.poll_once, 10, "the retried message back in the agency's queue", interval=0.05)


def test_a_failing_handler_is_retried_later_and_succeeds_without_losing_the_message(flaky_ofii):
    runner, handler = flaky_ofii(failures=2)
    send_recepisse(runner)
    assert runner.poll_once() and handler.calls == 1 and runner.retried == 1
    next_delivery(runner)
    assert handler.calls == 2 and runner.retried == 2
    next_delivery(runner)
    assert handler.calls == 3 and runner.agency.register.state("D-1")["recepisse"] is True
    assert runner.bus.get(runner.bus.topology.queue_name("erreurs")) is None


def test_after_the_last_delayed_retry_the_message_goes_to_the_error_queue_with_its_history(flaky_ofii):
    runner, handler = flaky_ofii(failures=99)
    send_recepisse(runner)
    assert runner.poll_once()
    for _ in DELAYS:
        next_delivery(runner)
    assert handler.calls == len(DELAYS) + 1
    failed = wait_until(lambda: runner.bus.get(runner.bus.topology.queue_name("erreurs")), 10, "the error queue")
    headers = failed.headers
    assert headers["x-guichet-error-attempts"] == len(DELAYS) + 1
    assert headers["x-guichet-error-exception"] == "RuntimeError"
    assert "failure 4" in headers["x-guichet-error-message"] and "Traceback" in headers["x-guichet-error-traceback"]
    assert headers["x-guichet-error-first-failure"] < headers["x-guichet-error-last-failure"]
    assert ATTEMPTS not in headers and headers["type"] == "prefecture.recepisse"
    failed.ack()
