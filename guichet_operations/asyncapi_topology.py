"""Every exchange and queue of the bus as AsyncAPI channels, read from the kombu entities the bus
declares (`Topology.exchanges()`, `Topology.queues()`): names, types, arguments and bindings come
from the objects `Topology.declare` hands to the broker, so the document cannot drift from them.

AMQP channel bindings 0.3.0 have no room for arguments, so each channel carries them in
`x-guichet-declare`: exactly what to pass to `exchange.declare` / `queue.declare` and
`queue.bind`, for a connector that declares before the bus (an equivalent declaration succeeds
whichever comes first; any difference is refused by RabbitMQ with PRECONDITION_FAILED).
"""

from __future__ import annotations

from typing import Any

from kombu.entity import Exchange, Queue

from guichet.topology import DELIVERY_LIMIT, Topology
from guichet_operations.asyncapi_bindings import exchange_binding, queue_binding

SETUP = (
    "the bus: `guichet broker setup` (as the broker's administrator), or any guichet process whose "
    "account may configure (Topology.declare)"
)

ARGUMENTS = {
    "alternate-exchange": "Where a message no binding routes goes instead of being dropped.",
    "x-dead-letter-exchange": "Where the broker moves a message that expires here (its TTL), is "
    "rejected without requeue, or passed its delivery limit.",
    "x-message-ttl": "How long (ms, real time: the broker's clock) a message stays: then it is dead-lettered "
    "where the queue has a dead-letter exchange, dropped where it has none (a refusal queue).",
    "x-queue-type": "`quorum` in cluster mode (`--queue-type quorum`); absent means classic.",
    "x-dead-letter-strategy": "`at-least-once`: a dead-lettered message is never lost between two quorum queues.",
    "x-overflow": "`reject-publish`, which at-least-once dead-lettering requires: a full queue nacks the publish; "
    "`drop-head` on a refusal queue: the oldest notice goes first.",
    "x-max-length": "How many messages the queue keeps at most.",
    "x-delivery-limit": f"A message redelivered {DELIVERY_LIMIT} times (a consumer that crashes on it) is "
    "dead-lettered instead of looping.",
}

EXCHANGES = {
    "flux": "The flow exchange: every message, routing key `<recipient>.<type>`.",
    "rejeu": "An operator's replay from the error queue, bound to each agency queue with `<agency>.#`.",
    "non_routes": "The flow's alternate exchange: what no queue is bound to take.",
    "erreurs": "The error exchange: an agency files what it refused or could not handle here, under "
    "the routing key the message was delivered with (`<recipient>.<type>`) or `<agency>.retry`.",
    "erreurs.archive": "What an operator set aside instead of purging it.",
    "retard": "The agency queues' dead-letter exchange: the late path.",
    "refusals": "The refusal exchange: an agency publishes a refusal notice here under the name of the party "
    "notified (the account that published the refused message), once the refused message is filed in the "
    "error queue. An agency's account may write only the names of the parties it receives from.",
}

QUEUES = {
    "usagers": "The employers' portal inbox: the employer's and the worker's copies.",
    "ministere": "The ministry's copies.",
    "erreurs": "The error queue: what can never succeed or failed every retry, with `x-guichet-error-*` "
    "headers; `guichet errors` lists and replays it. Read by the operator only.",
    "erreurs.archive": "The error queue's archive.",
    "non_routes": "Messages the flow exchange could route to no queue.",
    "retard": "The late queue: what the agency queues dead-lettered (a transmission that expired in its "
    "recipient's queue past its legal deadline, a delivery rejected without requeue, a delivery "
    "limit reached). Read by the late relay (the DT-OFII) only: it republishes a late transmission "
    "under its own key with `x-guichet-late: true` and raises the alert, and files anything else in "
    "the error queue with the broker's dead-letter reason (`rejected`, `delivery_limit`, ...).",
}


def owner_of(topology: Topology, name: str) -> str:
    """`<ns>.vers.erreurs` -> `erreurs`, `<ns>.flux` -> `flux`: the name without its namespace."""
    bare = name[len(topology.namespace) + 1 :]
    return bare.removeprefix("vers.")


def declare_exchange_args(exchange: Exchange) -> dict[str, Any]:
    return {
        "exchange": exchange.name,
        "type": exchange.type,
        "durable": bool(exchange.durable),
        "autoDelete": bool(exchange.auto_delete),
        "arguments": dict(exchange.arguments or {}),  # type: ignore[attr-defined]  # kombu attrs
    }


def declare_queue_args(queue: Queue) -> dict[str, Any]:
    return {
        "queue": queue.name,
        "durable": bool(queue.durable),
        "exclusive": bool(queue.exclusive),
        "autoDelete": bool(queue.auto_delete),
        "arguments": dict(queue.queue_arguments or {}),  # type: ignore[attr-defined]  # kombu attrs
        "bindings": [{"exchange": b.exchange.name, "routingKey": b.routing_key} for b in queue.bindings],
    }


def _described(arguments: dict[str, Any]) -> str:
    return "".join(f"\n- `{k}` = `{v}`: {ARGUMENTS.get(k, '')}" for k, v in arguments.items())


def connector_rights(topology: Topology, owner: str, is_queue: bool) -> str:
    agencies = topology.parties.agencies
    if is_queue and owner in agencies:
        return f"The `{owner}` connector reads it; it may passive-declare it (its account has no configure right)."
    if is_queue and owner.endswith(".refusals"):
        party = owner.removesuffix(".refusals")
        return f"The `{party}` connector reads it, with its own account only; it may passive-declare it."
    if is_queue and owner == "retard":
        relay = topology.parties.relay
        return f"The `{relay}` connector (the late relay) reads it; it may passive-declare it."
    if is_queue:
        return "No agency connector reads it."
    if owner == "refusals":
        return "Every agency connector writes its refusal notices on it; it may passive-declare it."
    if owner == "flux" or owner == "erreurs" or owner.startswith("attente."):
        return "Every agency connector writes on it, under keys its account is allowed; it may passive-declare it."
    return "No agency connector writes on it."


def exchange_channel(topology: Topology, exchange: Exchange, vhost: str) -> dict[str, Any]:
    owner = owner_of(topology, exchange.name)
    declared = declare_exchange_args(exchange)
    what = EXCHANGES.get(owner, "")
    if owner.startswith("attente."):
        what = f"Leads to the wait queue `{topology.queue_name(owner)}` (bound with `#`)."
    return {
        "address": exchange.name,
        "title": f"exchange {exchange.name}",
        "description": f"{what}\n\nA durable {exchange.type} exchange. Declared by {SETUP}. "
        f"{connector_rights(topology, owner, False)}" + _described(declared["arguments"]),
        "bindings": exchange_binding(exchange.name, exchange.type, vhost),
        "x-guichet-declare": declared,
        "x-guichet-declared-by": "bus",
    }


def queue_channel(topology: Topology, queue: Queue, vhost: str) -> dict[str, Any]:
    owner = owner_of(topology, queue.name)
    declared = declare_queue_args(queue)
    if owner in topology.parties.agencies:
        what = (
            f"The {owner} agency queue. A transmission whose AMQP `expiration` (its legal deadline) passes "
            f"here, and a delivery rejected without requeue (a nack), are dead-lettered to "
            f"`{topology.late_exchange.name}`: the late path. The relay delivers the first again, marked late, "
            "and files the second in the error queue (reason `rejected`)."
        )
    elif owner.startswith("attente."):
        what = (
            "A wait queue: a delayed retry stays here for the queue's TTL (real seconds, on the broker's "
            f"clock), then is dead-lettered back to `{topology.flow.name}` under its original routing key "
            "(no `x-dead-letter-routing-key`) with its `x-guichet-attempts` header."
        )
    elif owner.endswith(".refusals"):
        what = (
            f"The refusal notices of {owner.removesuffix('.refusals')}: why a message it published was refused "
            "(docs/refusals.md). Bounded, so that a party that never reads them cannot fill the broker."
        )
    else:
        what = QUEUES.get(owner, "")
    bound = ", ".join(f"`{b['routingKey'] or '(any)'}` on `{b['exchange']}`" for b in declared["bindings"])
    return {
        "address": queue.name,
        "title": f"queue {queue.name}",
        "description": f"{what}\n\nA durable queue bound with {bound}. Declared by {SETUP}. "
        f"{connector_rights(topology, owner, True)}" + _described(declared["arguments"]),
        "bindings": queue_binding(queue.name, vhost),
        "x-guichet-declare": declared,
        "x-guichet-declared-by": "bus",
    }


def topology_channels(topology: Topology, vhost: str) -> dict[str, dict[str, Any]]:
    """Channel id -> channel: `vers.<queue>` / `flux` / `rejeu` for the exchanges, the queue's owner
    (`consulat`, `attente.10s`, ...) for the queues."""
    channels: dict[str, dict[str, Any]] = {}
    for exchange in topology.exchanges():
        bare = exchange.name[len(topology.namespace) + 1 :]
        channels[bare] = exchange_channel(topology, exchange, vhost)
    for queue in topology.queues():
        channels[owner_of(topology, queue.name)] = queue_channel(topology, queue, vhost)
    return channels
