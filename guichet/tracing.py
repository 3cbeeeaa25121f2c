"""One trace per dossier across the four agencies: W3C trace context in the AMQP headers.

Every publish opens a producer span and writes its `traceparent` (and `tracestate`) into the
message's headers; every delivery opens a consumer span whose parent is read back from them. A
message caused by a handler is published later, from the outbox: the handling span's context is
stored in the outbox row's headers, and the publish span that eventually sends it is its child.

Spans follow the messaging semantic conventions (messaging.system=rabbitmq, destination, routing
key, message id, operation publish/process). Only the OpenTelemetry API is required: without an
SDK its tracer records nothing and costs next to nothing, while the context read from a message
still passes on to the messages it causes. `configure` sets up the SDK and its OTLP exporter when
OTEL_EXPORTER_OTLP_ENDPOINT is set and the `otel` extra is installed.
"""

from __future__ import annotations

import atexit
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import context, propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from guichet.agency import Outcome

log = structlog.get_logger("guichet.tracing")

SYSTEM = "rabbitmq"


def tracer() -> trace.Tracer:
    return trace.get_tracer("guichet")


def _recording() -> bool:
    """Whether an SDK records spans. Without one, a span would record nothing and only carry its
    parent's context: `publishing` and `processing` then pass the context on themselves, the same
    headers out, at a fraction of the API's cost on every message."""
    return not isinstance(trace.get_tracer_provider(), (trace.ProxyTracerProvider, trace.NoOpTracerProvider))


def _attributes(
    operation: str, kind: str, destination: str, routing_key: str | None, message_id: str | None
) -> dict[str, Any]:
    attributes = {
        "messaging.system": SYSTEM,
        "messaging.operation": operation,
        "messaging.operation.name": operation,
        "messaging.operation.type": kind,
        "messaging.destination.name": destination,
    }
    if routing_key:
        attributes["messaging.rabbitmq.destination.routing_key"] = routing_key
    if message_id:
        attributes["messaging.message.id"] = message_id
    return attributes


@contextmanager
def publishing(headers: dict[str, Any], exchange: str, routing_key: str, message_id: str | None) -> Iterator[Span]:
    """A producer span for one publish, its context written into `headers`. Its parent is the span
    in progress (a handler's retry, a relay); with none, the context the headers already carry (an
    outbox row written while its cause was handled); with neither, it starts a trace."""
    current = trace.get_current_span()
    if not _recording():
        # The span in progress goes into the headers; with none, the context they carry stays.
        if current.get_span_context().is_valid:
            propagate.inject(headers)
        yield current
        return
    parent = None if current.get_span_context().is_valid else propagate.extract(headers)
    with tracer().start_as_current_span(
        f"publish {exchange}",
        context=parent,
        kind=SpanKind.PRODUCER,
        attributes=_attributes("publish", "send", exchange, routing_key, message_id),
    ) as span:
        propagate.inject(headers)
        yield span


@contextmanager
def processing(
    headers: Mapping[str, Any] | None, queue: str, routing_key: str | None, message_id: str | None
) -> Iterator[Span]:
    """A consumer span for one delivery, child of the publish that sent it."""
    if not _recording():
        # The publish's context becomes the current one, for the messages the handling causes.
        span = trace.get_current_span(propagate.extract(dict(headers or {})))
        token = context.attach(trace.set_span_in_context(span))
        try:
            yield span
        finally:
            context.detach(token)
        return
    attributes = _attributes("process", "process", queue, routing_key, message_id)
    with tracer().start_as_current_span(
        f"process {queue}",
        context=propagate.extract(dict(headers or {})),
        kind=SpanKind.CONSUMER,
        attributes=attributes,
    ) as span:
        yield span


def record_outcome(
    span: Span, outcome: Outcome, message_id: Callable[[], str] = lambda: "", dossier_id: str | None = None
) -> None:
    """What became of the delivery, with the message's id and dossier: from the decoded envelope, else
    (a handler that raised) from the body and headers."""
    if not span.is_recording():
        return
    span.set_attribute("guichet.outcome", outcome.status)
    if outcome.envelope is not None:
        span.set_attribute("messaging.message.id", str(outcome.envelope.message_id))
        span.set_attribute("guichet.dossier_id", outcome.envelope.dossier_id)
    else:
        span.set_attribute("messaging.message.id", message_id())
        if isinstance(dossier_id, str):
            span.set_attribute("guichet.dossier_id", dossier_id)
    if outcome.status in ("rejected", "failed", "retrying"):
        span.set_status(Status(StatusCode.ERROR, outcome.reason or outcome.status))


def current_context_headers() -> dict[str, str]:
    """The span in progress as headers (`traceparent`, `tracestate`), for a message published later."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def add_trace_id(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the trace a log line belongs to, to find the line from a trace and back."""
    context = trace.get_current_span().get_span_context()
    if context.is_valid:
        event.setdefault("trace_id", format(context.trace_id, "032x"))
        event.setdefault("span_id", format(context.span_id, "016x"))
    return event


def configure(service_name: str, environ: Mapping[str, str]) -> bool:
    """Export spans over OTLP when the OpenTelemetry variables the command line hands over name an
    endpoint (the exporter reads the others itself, as the OpenTelemetry SDK specifies); True when
    the SDK was set up."""
    if not (environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")):
        return False
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but the OpenTelemetry SDK is not installed: "
            "pip install 'guichet[otel]'; no span is exported"
        )
        return False
    provider = TracerProvider(
        resource=Resource.create({"service.name": environ.get("OTEL_SERVICE_NAME") or service_name})
    )
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)
    atexit.register(provider.shutdown)  # the last spans are sent before the process exits
    return True
