"""Every AMQP header the bus writes or reads, with the field-table type it travels as.

A connector in any language reads these headers with its own AMQP 0-9-1 client, so they are
written only with the field types that amqplib (Node.js), the RabbitMQ Java client and pika all
decode: `S` (long string), `I` (signed 32-bit integer), `d` (double), `t` (boolean), `A` (array)
and `F` (table). py-amqp would write a Python int beyond 32 bits with tag `L`, which amqplib and
the Java client refuse (the connection dies at the first delivery), and a datetime as `T`, which
each client hands over in its own shape. `outgoing` turns what the bus is about to publish into
those types, on every publish path (guichet/transport).

The table is the contract: the AsyncAPI document (guichet_operations/asyncapi_parts.py) and the
integrator's guide (docs/connectors.md) are generated from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

# The field types every common client decodes: amqplib's codec, the Java client's ValueReader and
# pika's data module all read these tags (and `V`, void, which the bus never writes: a header
# without a value is left out).
FIELD_TYPES = {
    "S": "long string",
    "I": "signed 32-bit integer",
    "d": "double",
    "t": "boolean",
    "A": "array",
    "F": "table",
}
# py-amqp writes `I` only down to -(2**31 - 1): -2**31 already goes as `L`.
INT32 = (-(2**31 - 1), 2**31 - 1)
# The largest integer a double holds exactly: a bigger one travels as its decimal string.
EXACT_IN_DOUBLE = 2**53

# Who writes a header.
BUS = "the bus, on every publish"
SENDER = "the sending agency (its envelope)"
RETRY = "the retrying agency, on a delayed retry"
FILING = "the agency filing the message in the error queue"
RELAY = "the late relay (the DT-OFII)"
OPERATOR = "the operator's tools (guichet errors, the error pages)"
BROKER = "RabbitMQ, when it dead-letters a message"
REFUSER = "the agency that refused a message, on its sender's refusal notice"
ERROR_PREFIX = "x-guichet-error-"


@dataclass(frozen=True)
class Header:
    name: str
    field: str  # the AMQP field-table tag it is written with
    json_type: str  # its JSON-schema type, as a client's decoder gives it
    writer: str
    meaning: str
    where: str  # which messages carry it: flow, waiting, failed, late, replayed, archived, dead-lettered

    @property
    def field_type(self) -> str:
        return f"AMQP field type {self.field} ({FIELD_TYPES[self.field]})"

    def schema(self) -> dict[str, Any]:
        """The header as a JSON schema, its AMQP field type named in its description."""
        schema: dict[str, Any] = {"type": self.json_type, "description": f"{self.meaning}. {self.field_type}."}
        if self.field == "A":
            schema["items"] = {"type": "object"} if self.name == "x-death" else {"type": "string"}
        return schema


def _error(suffix: str, field: str, json_type: str, meaning: str) -> Header:
    return Header(f"{ERROR_PREFIX}{suffix}", field, json_type, FILING, meaning, "failed")


HEADERS: tuple[Header, ...] = (
    # The envelope's own fields (guichet/envelope.py: Envelope.headers): a consumer can refuse a
    # message before parsing its body; the body wins, and a header that disagrees is refused.
    Header("type", "S", "string", SENDER, "The message type, as in the envelope", "flow"),
    Header("version", "I", "integer", SENDER, "The payload's version, as in the envelope", "flow"),
    Header("dossier_id", "S", "string", SENDER, "The dossier the message is about, as in the envelope", "flow"),
    Header("sender", "S", "string", SENDER, "The sending agency, as in the envelope's sender.agency", "flow"),
    Header(
        "timestamp_in_ms",
        "d",
        "number",
        BUS,
        "Real time of publish, in whole milliseconds since the Unix epoch (the delivery latency)",
        "flow",
    ),
    Header("traceparent", "S", "string", BUS, "W3C trace context: the publish span (one trace per dossier)", "flow"),
    Header("tracestate", "S", "string", BUS, "W3C trace state, when the trace carries one", "flow"),
    # A delayed retry (guichet/retry_policy.py), counted in the message itself.
    Header("x-guichet-attempts", "I", "integer", RETRY, "Delayed retries this message already had", "waiting"),
    Header("x-guichet-first-failure", "S", "string", RETRY, "When it first failed (ISO 8601, bus clock)", "waiting"),
    Header("x-guichet-last-error", "S", "string", RETRY, "The error of its last failure", "waiting"),
    # A filing in the error queue (guichet/dead_letters.py, guichet/transport/base.py).
    _error("reason", "S", "string", "Why it failed: the reason's code (e.g. invalid_payload, unknown_type)"),
    _error("exception", "S", "string", "The exception's class, or the reason when none was raised"),
    _error("message", "S", "string", "What went wrong, in words"),
    _error("traceback", "S", "string", "The handler's traceback, empty when none"),
    _error("attempts", "I", "integer", "Attempts made, this filing included"),
    _error("queue", "S", "string", "The queue the message failed in"),
    _error("routing-key", "S", "string", "The routing key it was delivered with, as its sender said"),
    _error("first-failure", "S", "string", "When it first failed (ISO 8601, bus clock)"),
    _error("last-failure", "S", "string", "When it last failed (ISO 8601, bus clock)"),
    _error("message_id", "S", "string", "The message's id, empty when none could be read"),
    Header(
        "x-guichet-original-content-type", "S", "string", FILING, "The content type it was delivered with", "failed"
    ),
    Header(
        "x-guichet-filing-id",
        "S",
        "string",
        FILING,
        "The same for every filing of one delivery in one queue: doubles collapse on it",
        "failed",
    ),
    # A replay (guichet_operations/error_queue.py) and an archive (guichet_operations/view/error_actions.py).
    Header("x-guichet-replays", "I", "integer", OPERATOR, "How many times it was replayed", "replayed"),
    Header(
        "x-guichet-history", "S", "string", OPERATOR, "JSON list of the failures before the last replay", "replayed"
    ),
    Header("x-guichet-archived-routing-key", "S", "string", OPERATOR, "The routing key before archiving", "archived"),
    Header("x-guichet-archived-at", "S", "string", OPERATOR, "When it was archived (ISO 8601, UTC)", "archived"),
    # The late relay (guichet/late_relay.py).
    Header("x-guichet-late", "t", "boolean", RELAY, "Relayed after expiring in its recipient's queue", "late"),
    # A refusal notice (guichet/refusals.py); its `type` (refusal_notice) and `version` (1) travel as above.
    Header("refused_by", "S", "string", REFUSER, "The agency that refused the message", "notice"),
    # Written by RabbitMQ on a dead-lettered message; read by the late relay, never published again.
    Header("x-death", "A", "array", BROKER, "The broker's dead-lettering history (tables)", "dead-lettered"),
    Header("x-first-death-queue", "S", "string", BROKER, "The queue it was first dead-lettered from", "dead-lettered"),
    Header("x-first-death-reason", "S", "string", BROKER, "Why it was first dead-lettered", "dead-lettered"),
    Header("x-first-death-exchange", "S", "string", BROKER, "The exchange it was first published to", "dead-lettered"),
)
BY_NAME = {h.name: h for h in HEADERS}


def carried_by(where: str) -> tuple[Header, ...]:
    return tuple(h for h in HEADERS if h.where == where)


def error_suffixes() -> tuple[str, ...]:
    """The `x-guichet-error-*` headers of a filing, without their prefix."""
    return tuple(h.name[len(ERROR_PREFIX) :] for h in HEADERS if h.name.startswith(ERROR_PREFIX))


def outgoing(headers: dict[str, Any]) -> dict[str, Any]:
    """The headers as they may be published: a header without a value is left out, an integer
    beyond 32 bits becomes a double (or, past 2**53, its decimal string), a date its ISO 8601
    string, anything else but a string, a number, a boolean, a list or a table its text.
    Called on every publish: plain strings, small ints, floats and booleans pass at one test each."""
    out: dict[str, Any] = {}
    for name, value in headers.items():
        kind = type(value)
        if kind is str or kind is float or kind is bool or (kind is int and INT32[0] <= value <= INT32[1]):
            out[name] = value
        elif value is not None:
            out[name] = _coerce(value)
    return out


def _coerce(value: Any) -> Any:
    if isinstance(value, bool) or isinstance(value, (str, float)):
        return value
    if isinstance(value, int):
        if INT32[0] <= value <= INT32[1]:
            return int(value)
        return float(value) if abs(value) <= EXACT_IN_DOUBLE else str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return outgoing(value)
    if isinstance(value, (list, tuple)):
        return [_coerce(v) for v in value if v is not None]
    if isinstance(value, bytes):  # written as a long string, as it is
        return value
    return str(value)


def markdown() -> str:
    """The table for people (docs/connectors.md): one row per header."""
    rows = ["| Header | AMQP field type | JSON type | Carried by | Written by | Meaning |", "|---|---|---|---|---|---|"]
    for h in HEADERS:
        field = f"`{h.field}` ({FIELD_TYPES[h.field]})"
        rows.append(f"| `{h.name}` | {field} | {h.json_type} | {h.where} | {h.writer} | {h.meaning} |")
    return "\n".join(rows) + "\n"
