"""The header table and `outgoing`: every header the bus builds is in the table, with a field type
every common AMQP client decodes, and `outgoing` never lets another type through."""

import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

from amqp.serialization import dumps

from guichet.amqp_headers import BY_NAME, FIELD_TYPES, HEADERS, INT32, error_suffixes, markdown, outgoing
from guichet.dead_letters import DeadLetters
from guichet.envelope import Sender, wrap
from guichet.outcome import Outcome
from guichet.retry_policy import RetryPolicy
from guichet.transport.base import Transport
from guichet_operations.asyncapi_parts import ERROR_HEADERS, _headers
from schemas.remise import RemiseTitre

ROOT = Path(__file__).parents[2]
NOW = datetime(2026, 1, 5, 9, tzinfo=UTC)
ENVELOPE = wrap(RemiseTitre(card_number="1"), dossier_id="D-1", sender=Sender(agency="ofii"), sent_at=NOW)


def tags(headers: dict) -> dict[str, str]:
    """The field-table tag py-amqp writes for each header (the first byte after its name)."""
    tagged = {}
    for name, value in headers.items():
        frame = dumps("F", [{name: value}])
        tagged[name] = chr(frame[4 + 1 + len(name.encode())])
    return tagged


def filed_headers(outcome: Outcome, headers: dict) -> dict:
    """The headers of a filing as DeadLetters and the transport build them, as they are published."""
    published = {}

    def publish(body, routing_key, headers, message_id, exchange=None, content_type=None):
        published.update(outgoing(headers))

    bus = SimpleNamespace(publish=publish, topology=SimpleNamespace(errors_exchange="errors"))
    bus.to_error_queue = lambda *a: Transport.to_error_queue(bus, *a)
    agency = SimpleNamespace(name="ofii", clock=SimpleNamespace(now=lambda: NOW))
    admission = SimpleNamespace(filing_key=lambda key: key)
    hooks = SimpleNamespace(dead_lettered=lambda reason: None)
    dead_letters = DeadLetters(agency, bus, admission, hooks, "ns.ofii")
    assert dead_letters.file_failure(ENVELOPE.body(), headers, "application/json", outcome, None, None)
    return published


def test_every_header_has_a_type_every_client_decodes():
    for header in HEADERS:
        assert header.field in FIELD_TYPES, header.name
        assert header.json_type in {"string", "integer", "number", "boolean", "array", "object"}
        assert header.meaning and header.writer


def test_outgoing_keeps_only_types_every_client_decodes():
    headers = {
        "small": 7,
        "big": 2**40,
        "huge": 2**60,
        "negative_big": -(2**33),
        "ratio": 0.5,
        "flag": True,
        "text": "é",
        "none": None,
        "when": NOW,
        "amount": Decimal("1.5"),
        "nested": {"n": 2**40, "gone": None, "list": [1, 2**40, None, "a"]},
    }
    out = outgoing(headers)
    assert "none" not in out and "gone" not in out["nested"]
    assert out["big"] == float(2**40) and out["huge"] == str(2**60) and out["negative_big"] == -float(2**33)
    assert out["when"] == NOW.isoformat() and out["amount"] == "1.5"
    assert out["nested"]["list"] == [1, float(2**40), "a"]
    assert set(tags(out).values()) <= set(FIELD_TYPES), tags(out)
    assert tags({"edge": INT32[1], "low": INT32[0]}) == {"edge": "I", "low": "I"}
    assert tags(outgoing({"below": INT32[0] - 1, "above": INT32[1] + 1})) == {"below": "d", "above": "d"}
    assert outgoing(headers) == out and headers["big"] == 2**40  # the caller's dict is left alone


def test_the_envelope_retry_and_failure_headers_are_in_the_table_with_their_type():
    envelope = ENVELOPE.headers()
    retried = RetryPolicy(delays=(1,)).next_headers(envelope, 0, NOW, "boom")
    outcome = Outcome("error", envelope=ENVELOPE, reason="handler_failed", error="boom", details={})
    filed = filed_headers(outcome, retried)
    for built in (envelope, retried, filed):
        for name, tag in tags(outgoing(built)).items():
            assert name in BY_NAME, f"{name} is written but not in the table"
            assert BY_NAME[name].field == tag, name
    assert {f"x-guichet-error-{s}" for s in error_suffixes()} - set(filed) <= {"x-guichet-error-routing-key"}


def test_the_asyncapi_headers_come_from_the_table():
    schema = _headers(RemiseTitre)
    for name in ("type", "version", "dossier_id", "sender", "timestamp_in_ms", "traceparent"):
        assert schema["properties"][name]["type"] == BY_NAME[name].json_type
        assert f"AMQP field type {BY_NAME[name].field}" in schema["properties"][name]["description"]
    assert schema["properties"]["type"]["const"] == RemiseTitre.TYPE
    assert ERROR_HEADERS == error_suffixes()


def test_the_integrators_guide_lists_every_header():
    guide = (ROOT / "docs" / "connectors.md").read_text()
    section = guide.split("## AMQP headers", 1)[1].split("\n## ", 1)[0]
    for header in HEADERS:
        assert f"`{header.name}`" in section, header.name
    assert markdown() in section, "docs/connectors.md is behind the table: regenerate it from markdown()"


def test_outgoing_is_cheap_on_the_headers_of_a_flow_message():
    headers = {**ENVELOPE.headers(), "traceparent": "00-" + "a" * 32 + "-" + "b" * 16 + "-01"}
    start = time.perf_counter()
    for _ in range(10_000):
        outgoing(headers)
    assert (time.perf_counter() - start) / 10_000 < 50e-6  # generous on a loaded machine
