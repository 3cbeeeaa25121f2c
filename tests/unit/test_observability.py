"""Metrics and trace context of one agency on the embedded transport (no server): what each delivery
counts, what the register gauges read at scrape time, how deadline alerts are counted (II.E.1), and
the trace context that log lines and delayed retries carry."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
import structlog
from opentelemetry import trace

from guichet import logs
from guichet.agency import Agency, AgencyDefinition
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Sender, wrap
from guichet.metrics import Metrics
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from schemas.titre import Recepisse
from schemas.veille import ALERTE
from services.deadline_watch import deadline_signal
from services.ofii.state import OfiiDossier
from services.parties import PARTIES

START = datetime(2026, 1, 5, 9, tzinfo=PARIS)


def breach_alert(now: datetime):
    return ALERTE["ofii"](agency="ofii", task="production", step="fabrication_titre", kind="depassement", deadline=now)


def recepisse_handler(msg, ctx, d):
    """Opens a task and sends a breach alert: enough to move every counter and gauge."""
    if msg.valid_until.year == 1999:
        raise RuntimeError("the handler's bug")
    d.recepisse = True
    ctx.await_act("production", deadline=ctx.now + timedelta(days=60), step="fabrication_titre")
    ctx.send(breach_alert(ctx.now))


@pytest.fixture
def runner(namespace, tmp_path):
    definition = AgencyDefinition(
        name="ofii", state_model=OfiiDossier, handlers={Recepisse: recepisse_handler}, observe=deadline_signal
    )
    clock = VirtualClock(START)
    bus = Bus("memory://", Topology(PARTIES, namespace=namespace, retry_delays=(60,)), clock=clock)
    bus.declare()
    made = Runner(Agency(definition, Register(str(tmp_path / "ofii.sqlite3"), "ofii"), clock), bus)
    made.metrics.watch_register(clock, tmp_path, None)
    yield made
    made.agency.register.close()
    bus.close()


def recepisse(runner: Runner, dossier_id: str = "D-1", year: int = 2026):
    return wrap(
        Recepisse(valid_until=date(year, 6, 1)),
        dossier_id=dossier_id,
        sender=Sender(agency="prefecture"),
        sent_at=runner.agency.clock.now(),
    )


def value(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def test_each_delivery_is_counted_by_type_and_outcome_with_its_handler_time_and_latency(runner):
    envelope = recepisse(runner)
    runner.bus.publish_envelope(envelope)
    runner.bus.publish_envelope(envelope)  # redelivered: the register's processed ids absorb it
    runner.bus.publish("not json", "ofii.recepisse", {}, "bad-1")
    while runner.poll_once():
        pass
    m, labels = runner.metrics, {"agency": "ofii", "type": "prefecture.recepisse"}
    assert value(m, "guichet_messages_consumed_total", **labels, outcome="handled") == 1
    assert value(m, "guichet_messages_consumed_total", **labels, outcome="duplicate") == 1
    assert value(m, "guichet_messages_consumed_total", agency="ofii", type="unknown", outcome="error_queue") == 1
    assert value(m, "guichet_error_queue_total", agency="ofii", reason="undecodable") == 1
    assert value(m, "guichet_handler_seconds_count", **labels) == 1
    assert value(m, "guichet_delivery_latency_seconds_count", **labels) == 2
    assert runner.flush_outbox() == 1
    assert value(m, "guichet_messages_published_total", agency="ofii", type="ofii.alerte.delai") == 1


def test_a_failed_handler_counts_a_delayed_retry_and_its_span_goes_with_the_delayed_message(runner, finished_spans):
    runner.bus.publish_envelope(recepisse(runner, year=1999))
    assert runner.poll_once()
    assert value(runner.metrics, "guichet_retries_total", agency="ofii", tier="delayed") == 1
    assert (
        value(runner.metrics, "guichet_messages_consumed_total", agency="ofii", type="unknown", outcome="retried") == 1
    )
    failed = next(s for s in finished_spans() if s.name.startswith("process "))
    delayed = runner.bus.get(runner.bus.topology.queue_name("attente.60s"))
    trace_id = delayed.headers["traceparent"].split("-")[1]
    assert trace_id == format(failed.context.trace_id, "032x")


def test_outbox_due_and_open_tasks_are_read_from_the_register_at_scrape_time(runner):
    runner.bus.publish_envelope(recepisse(runner, "D-1"))
    runner.bus.publish_envelope(recepisse(runner, "D-2"))
    while runner.poll_once():
        pass
    m = runner.metrics
    assert value(m, "guichet_outbox_pending", agency="ofii") == 2
    assert value(m, "guichet_deadline_tasks_open", agency="ofii", step="production") == 2
    runner.flush_outbox()
    assert value(m, "guichet_outbox_pending", agency="ofii") == 0


def test_II_E_1_a_breach_alert_sent_to_the_referent_counts_as_an_alert_and_a_breach_of_its_step(runner):
    m = Metrics("smoe")
    now = runner.agency.clock.now()
    warning = ALERTE["smoe"](
        agency="smoe", task="instruction", step="decision_autorisation_travail", kind="avertissement", deadline=now
    )
    for message in (
        warning,
        ALERTE["smoe"](**{**warning.model_dump(), "kind": "depassement"}),
        Recepisse(valid_until=date(2026, 6, 1)),
    ):
        m.published(wrap(message, dossier_id="D-1", sender=Sender(agency=message.SENDER), sent_at=now), deadline_signal)
    step = {"agency": "smoe", "step": "decision_autorisation_travail"}
    assert value(m, "guichet_deadline_alerts_total", **step, kind="avertissement") == 1
    assert value(m, "guichet_deadline_alerts_total", **step, kind="depassement") == 1
    assert value(m, "guichet_deadline_breaches_total", **step) == 1
    assert value(m, "guichet_messages_published_total", agency="smoe", type="prefecture.recepisse") == 1


def test_log_lines_carry_the_trace_id_of_the_span_in_progress(finished_spans, capsys):
    saved = structlog.get_config()
    logs.configure("info", json_lines=True)
    try:
        with trace.get_tracer("test").start_as_current_span("work") as span:
            structlog.get_logger("test").info("inside")
        structlog.get_logger("test").info("outside")
    finally:
        structlog.configure(**saved)  # the captured stderr closes with this test
    inside, outside = [json.loads(line) for line in capsys.readouterr().err.splitlines()[-2:]]
    assert inside["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert "trace_id" not in outside


def test_a_transient_fault_retried_at_once_counts_an_immediate_retry(runner, monkeypatch):
    import sqlite3

    process, calls = runner.agency.process, []

    def locked_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise sqlite3.OperationalError("database is locked")
        return process(*args, **kwargs)

    monkeypatch.setattr(runner.agency, "process", locked_once)
    runner.bus.publish_envelope(recepisse(runner))
    assert runner.poll_once()
    assert value(runner.metrics, "guichet_retries_total", agency="ofii", tier="immediate") == 1
    assert (
        value(
            runner.metrics,
            "guichet_messages_consumed_total",
            agency="ofii",
            type="prefecture.recepisse",
            outcome="handled",
        )
        == 1
    )


def test_a_status_port_already_taken_is_refused_naming_the_option(tmp_path, capsys):
    import signal
    import socket

    from guichet.status_server import ListenerError, ServiceStatus
    from guichet_cli.main import main

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(ListenerError, match=f"127.0.0.1:{port}: cannot listen"):
            ServiceStatus(Metrics("ofii"), port, host="127.0.0.1").start()
        # The command line names its options: the runtime names the host and port it was given.
        handlers = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            assert (
                main(["run", "ofii", "--broker", "memory://", "--data-dir", str(tmp_path), "--http-port", str(port)])
                == 2
            )
        finally:  # the service set its own before it tried to listen
            for number, handler in handlers.items():
                signal.signal(number, handler)
        assert f"--http-host 127.0.0.1 --http-port {port}: cannot listen" in capsys.readouterr().err


def test_without_an_sdk_a_delivery_s_trace_context_passes_through_the_outbox_to_what_its_handling_sends(
    runner, monkeypatch
):
    """No tracer provider set (a service without OTEL_EXPORTER_OTLP_ENDPOINT): no span is recorded,
    yet the trace the sender started goes on, into the outbox row and out with the message."""
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.NoOpTracerProvider())
    trace_id = "0af7651916cd43dd8448eb211c80319c"
    envelope = recepisse(runner)
    runner.bus.publish(
        envelope.body().decode(),
        envelope.routing_key,
        {**envelope.headers(), "traceparent": f"00-{trace_id}-b7ad6b7169203331-01"},
        str(envelope.message_id),
    )
    assert runner.poll_batch() == 1
    row = runner.agency.register.due_outbox(START + timedelta(days=1))[0]
    assert json.loads(row["headers"])["traceparent"].split("-")[1] == trace_id
    assert runner.flush_outbox() == 1
    alert = runner.bus.get(runner.queue_name)
    assert alert.headers["type"] == "ofii.alerte.delai"
    assert alert.headers["traceparent"].split("-")[1] == trace_id
