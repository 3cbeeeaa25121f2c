"""Shared fixtures. Broker tests run on the real RabbitMQ and fail, never skip, when it is down."""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest

from schemas.catalogue import message_registry
from services.directory import Directory
from services.parties import PARTIES
from services.scenario import parse_scenario

AMQP_URL = os.environ.get("GUICHET_TEST_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
# Every message type of the contract, as the composition root gives it to the agencies.
MESSAGES = message_registry()
POSTGRES_URL = os.environ.get("GUICHET_TEST_DATABASE", "postgresql://postgres@127.0.0.1:5432/postgres")
# The directory of services the tests run on: the one shipped (services/data/annuaire.json).
DIRECTORY = Directory.shipped()
CASES = Path(__file__).resolve().parents[2] / "shared" / "acceptance" / "cases"
EXAMPLE_DOSSIER = {
    "id": "D-1",
    "title": "salarie_en_mission",
    "filed_on": "2026-01-05",
    "employment_department": "92",
    "residence_department": "78",
    "already_in_france": False,
    "family": {"spouse": False, "minor_children": 0},
    "employer": {"siret": "55208131766522", "name": "Exemple SA"},
    "worker": {
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
    },
    "contract": {"kind": "cdi", "months": None, "monthly_gross_salary_eur": 5200},
    "facts": {},
}


def dossier(**changes) -> dict:
    """The example dossier with some fields changed; `facts` and nested dicts are merged."""
    d = json.loads(json.dumps(EXAMPLE_DOSSIER))
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(d.get(key), dict):
            d[key] = {**d[key], **value}
        else:
            d[key] = value
    return d


def scenario(*dossiers: dict, regime: str = "circulaire-2012"):
    return parse_scenario({"regime": regime, "dossiers": list(dossiers)}, DIRECTORY)


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def _require_marker(request, marker: str, what: str) -> None:
    """The markers select honestly: a test that reaches a server must say so, so that
    `pytest -m "not broker and not postgres"` runs with no server at all."""
    if request.node.get_closest_marker(marker) is None:
        pytest.fail(f"{request.node.nodeid} uses {what} but is not marked `{marker}`")


@pytest.fixture
def amqp_url(request) -> str:
    _require_marker(request, "broker", "RabbitMQ")
    if not reachable(AMQP_URL, 5672):
        pytest.fail(f"RabbitMQ is not reachable at {AMQP_URL}: broker tests need it (start: rabbitmq-server -detached)")
    return AMQP_URL


@pytest.fixture
def postgres_url(request) -> str:
    _require_marker(request, "postgres", "PostgreSQL")
    if not reachable(POSTGRES_URL, 5432):
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_URL}: postgres tests need it")
    return POSTGRES_URL


@pytest.fixture
def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture(params=["memory", pytest.param("rabbitmq", marks=pytest.mark.broker)])
def broker(request) -> str:
    """The same test, once on the embedded in-memory transport and once on the real RabbitMQ."""
    if request.param == "memory":
        return "memory://"
    return request.getfixturevalue("amqp_url")


def wait_until(condition, timeout: float, what: str, interval: float = 0.1):
    """Wait on a condition, never on a fixed delay; fail naming what did not happen."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def delete_namespace(url: str, namespace: str) -> None:
    from guichet.bus import Bus
    from guichet.topology import Topology

    bus = Bus(url, Topology(PARTIES, namespace=namespace))
    try:
        bus.delete_topology()
    finally:
        bus.close()


@pytest.fixture(scope="session")
def _span_recorder():
    """The OpenTelemetry SDK as the process's tracer provider, set once (the API allows it once);
    spans are kept in memory only while a test asks for them."""
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    class WhileListening(SimpleSpanProcessor):
        listening = False

        def on_end(self, span) -> None:
            if self.listening:
                super().on_end(span)

    exporter = InMemorySpanExporter()
    processor = WhileListening(exporter)
    provider = TracerProvider()
    provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    yield exporter, processor
    provider.shutdown()


@pytest.fixture
def finished_spans(_span_recorder):
    """The spans this test records, from an empty start."""
    exporter, processor = _span_recorder
    exporter.clear()
    processor.listening = True
    yield exporter.get_finished_spans
    processor.listening = False
    exporter.clear()
