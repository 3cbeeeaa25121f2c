"""The prose of the AsyncAPI document a connector author needs besides the channels: the clock, the
AMQP properties the bus sets, what a nack does, the servers and the security schemes."""

from __future__ import annotations

from typing import Any

from guichet.metrics import TIMESTAMP_MS
from guichet.topology import Topology

CLOCK = """## The bus clock

Every date in an envelope (`sent_at`, `deadline`, the dates of a payload) is on the **bus clock**,
which every process of one bus shares: real time by default, or real time compressed `X` times
around an origin (`guichet run --time-scale X --clock-origin ISO`; at the origin both clocks agree,
after it one real second is X bus seconds). A connector on a compressed bus must use the same
scale and origin: `bus_now = origin + (real_now - origin) * X`.

- `sent_at` is the sender's bus time when it sent the envelope. A receiver refuses an envelope
  dated too far in its own future (`dated_in_future`) or past (`stale`); a key's validity is
  judged on `sent_at`, its withdrawal on the receiver's own clock.
- `deadline` is the legal time limit of the step, computed by the sender on the bus clock; the
  receiver computes its own and never takes the sender's as the legal one.
- A transmission between two agencies with a `deadline` is published with the AMQP `expiration`
  that its deadline leaves, converted to real milliseconds (the broker counts real time): one that
  expires in its recipient's queue takes the late path, and is still delivered.
- The wait queues' TTLs (`x-message-ttl`) are real milliseconds on the broker's clock, whatever the
  scale.
- In the error queue, `x-guichet-error-first-failure` and `x-guichet-error-last-failure` are on
  the bus clock of the agency that filed the message (compressed when the bus is); the AMQP
  `timestamp` property and the `timestamp_in_ms` header are real time (the publisher's host clock).
"""

PROPERTIES = f"""## AMQP properties the bus sets on every publish

- `content_type`: `application/json` (a message filed whole in the error queue keeps the one it came
  with, or `application/octet-stream`; the original is in `x-guichet-original-content-type`);
- `content_encoding`: `utf-8` (`binary` for a body filed as raw bytes);
- `delivery_mode`: 2 (persistent); publisher confirms are on, `mandatory` is not set (an unroutable
  message goes to the alternate exchange);
- `message_id`: the envelope's `message_id` (a UUID), the id receivers deduplicate on;
- `timestamp`: whole seconds since the epoch, real time;
- `user_id`: the broker account that publishes (RabbitMQ refuses any other): a receiver checks that
  it speaks for the envelope's sender (`wrong_account`);
- `expiration`: only on a transmission with a legal deadline (real milliseconds, see the clock);
- `type`: **not set**. The message type travels in the body's `type` and in the `type` header
  (the message bindings name no `messageType` for that reason);
- `cc`/`bcc`: **never set**; a publish carrying them is refused (`cc_refused`). The `cc` of an
  operation's binding is the one routing key the message is published under;
- headers: the envelope headers of each message, plus `{TIMESTAMP_MS}` (a double: the real publish
  time in milliseconds) and, when tracing is on, W3C `traceparent`/`tracestate`.

## Acknowledgements

A connector acks a delivery once it has handled it, or filed it in the error exchange. A delivery
rejected without requeue (`basic.nack`/`basic.reject`, `requeue=false`) is dead-lettered by its
queue to the late exchange: the late relay files it in the error queue with reason `rejected`.
A delivery requeued comes back at once, in a loop; on a quorum queue, it is dead-lettered the same
way past the delivery limit (`delivery_limit`).
"""


def description(topology: Topology) -> str:
    return (
        "The OFII 'guichet unique' for qualified foreign workers between the DT-OFII, the SMOE, the "
        "consulates and the préfectures (circulaire NOR INTV1231400C), on RabbitMQ. Every name below is "
        f"prefixed with the namespace `{topology.namespace}`; queues are `{topology.queue_type}` "
        f"(`guichet asyncapi --queue-type`).\n\n{CLOCK}\n{PROPERTIES}"
    )


def servers(host: str, vhost: str) -> dict[str, Any]:
    security = [
        {"$ref": "#/components/securitySchemes/account"},
    ]
    return {
        "rabbitmq": {
            "host": f"{host}:5672",
            "protocol": "amqp",
            "protocolVersion": "0-9-1",
            "pathname": vhost,
            "description": "RabbitMQ",
            "security": security,
        },
        "rabbitmq-tls": {
            "host": f"{host}:5671",
            "protocol": "amqps",
            "protocolVersion": "0-9-1",
            "pathname": vhost,
            "description": "RabbitMQ over TLS (`amqps://`): the server's certificate and name are always "
            "verified against the CA given (`--tls-ca`); a client certificate may be required by the broker "
            "(`--tls-cert`, `--tls-key`)",
            "security": [*security, {"$ref": "#/components/securitySchemes/tls"}],
        },
    }


def security_schemes(topology: Topology) -> dict[str, Any]:
    agencies = ", ".join(topology.parties.agencies)
    return {
        "account": {
            "type": "userPassword",
            "description": "One broker account per party (`guichet broker setup`): one per agency "
            f"({agencies}), `employeur` for the employers' portal (it speaks for the employer and the "
            "worker), `operateur` for the error queue. No account may configure anything. An agency's "
            f"account reads its own queue `{topology.queue_name('<agency>')}` only (the DT-OFII also the late "
            f"queue); it writes on `{topology.flow.name}` exactly the routing keys `<recipient>.<type>` of the "
            f"types it sends, on `{topology.errors_exchange.name}` and the wait exchanges keys addressed to "
            "itself (`<agency>.`...). The broker checks the AMQP `user_id` against the account. See "
            "guichet_operations/broker_permissions.py and docs/security.md.",
        },
        "tls": {
            "type": "X509",
            "description": "TLS on port 5671, server certificate verified; a client certificate where the "
            "broker requires one.",
        },
        "signature": {
            "type": "asymmetricEncryption",
            "description": "Not a transport scheme but the message signature, stated here so tooling lists it: "
            "a signed envelope carries `key_id` (the sender's key in the key directory), `canonical`: "
            "`rfc8785` and `signature`, the base64 Ed25519 signature over the RFC 8785 (JCS) canonical form "
            "of the envelope JSON as received, minus its `signature` member. The key directory (JSON, "
            "`--key-directory`) says which party holds which public key and when it is valid "
            "(judged on `sent_at`); see docs/keys.md and docs/trust.md. A receiver "
            "that requires signatures refuses an unsigned envelope (`unsigned`), a bad one "
            "(`bad_signature`), a key of another party (`wrong_sender_key`) or out of validity "
            "(`expired_key`).",
        },
    }
