"""Every exchange, queue and binding of the bus, named by one function and declared by another.

One topic exchange carries the flow; a message's routing key is `<recipient>.<type>`, so that each
party's durable queue is bound to `<party>.#` and receives exactly what is addressed to it.
Messages for the employer and the worker go to the `usagers` queue that an employers' portal
consumes; copies for the ministry to `ministere`. A message that no queue takes goes to the
alternate exchange's `non_routes` queue instead of vanishing.

Failure has queues of its own:
- `attente.<N>s`: delayed retries. Each wait queue holds messages for the same N seconds (a TTL
  per queue, since a per-message TTL only expires at the head of a queue), then dead-letters
  them back to the flow exchange with their original routing key.
- `retard`: an agency queue dead-letters a transmission that expired there before its legal
  deadline was met (its consumer was down); the services relay it back and raise an alert.
- `erreurs`: what can never succeed, or failed every retry, with its context in headers. Its
  exchange is a topic exchange and a failed message keeps the routing key it was delivered with:
  RabbitMQ then holds each agency to keys addressed to itself there too.
- `erreurs.archive`: what an operator set aside instead of purging it.
- `<party>.refusals`: the refusal notices of one sending party (guichet/refusals.py), fed by the
  topic exchange `refusals` under the party's name, bounded (`REFUSAL_QUEUE_LENGTH` notices, the
  oldest dropped first, each kept `REFUSAL_TTL_SECONDS` at most): a party that never reads its
  notices cannot fill the broker, and the error queue stays the record of what was refused.
- `supervision`: the audit copies every agency ships of what its journal records
  (guichet/audit_copy.py), under its own name as routing key, and a copy of every refusal notice:
  what the supervision service ingests into a store of its own. Nothing bounds it: while the
  supervision service is down its queue holds the copies, and its depth is watched instead.
An operator's replay from the error queue goes through an exchange of its own, `rejeu`, bound to
each agency queue with `<agency>.#`: the operator's account writes there, never on the flow, and
the key the broker checked at filing still decides where the message goes.

Names. Only the flow (`flux`), the replay (`rejeu`) and the refusal (`refusals`, leading to every
party's refusal queue) exchanges have names of their own; every
other exchange is named after the queue it leads to, under `vers.` (`<ns>.vers.erreurs` feeds
the queue `<ns>.erreurs`). No exchange shares a name with a queue: RabbitMQ's permission regexes
match queues and exchanges alike, and a shared name let an account allowed to write on an exchange
write on (bind to) the queue of that name as well.

Queue types. `classic` (the default) suits one broker. On a RabbitMQ cluster (`quorum`) a classic
queue lives on the node that declared it first: while that node is down the queue cannot be
declared, consumed or published to, and what is published to it in the meantime is confirmed and
dropped. So in cluster mode every queue the bus depends on is a quorum queue, replicated on a
majority of nodes, whose publisher confirm means a majority holds the message:
- the agency queues: consumed and acked message by message, a delivery limit against a message
  that crashes its consumer; transmissions expire there to `retard`, dead-lettered at least once
  (RabbitMQ >= 3.10: `x-dead-letter-strategy: at-least-once`, which needs `x-overflow:
  reject-publish`), so a transmission is never lost between the two queues;
- `attente.<N>s`: message TTL on quorum queues (>= 3.10), dead-lettered back to the flow at least
  once: a retry is never lost between the wait queue and the flow;
- `erreurs`, `erreurs.archive`: the last resort, must not be the one queue a node loss empties. No
  delivery limit: an operator's `errors list` takes every message and returns it, which counts as
  a redelivery;
- `retard`, `non_routes`: written by dead-lettering and by the alternate exchange, which confirm
  nothing to anyone; only a replicated queue keeps what they route;
- `usagers`, `ministere`: the outside parties' inboxes, consumed and acked message by message by
  the employers' portal and the ministry. Streams were considered (an append-only log several
  readers replay) but take no acknowledgement, no dead-lettering and no TTL, and each reader would
  have to keep its own offset: a quorum queue keeps the "taken once, acked, gone" contract these
  readers already have.
Queue types and these arguments are declared, not left to policies, because every process declares
the topology itself over AMQP; `guichet broker setup` sets the same values as policies too, so an
operator can change a TTL or a delivery limit without deleting a queue; queue length limits are set
by those policies only (guichet_operations/broker_policies.py). A queue found on the broker
with another type or arguments than asked is an error naming it (`TopologyMismatch`, guichet/declaration.py), never
silently used: otherwise the first process to declare would decide the type for everyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue, binding

from guichet.declaration import declare_exchange, declare_queue

RETRY_DELAYS_SECONDS = (1, 10, 60)
DELIVERY_LIMIT = 10
QUEUE_TYPES = ("classic", "quorum")
# A notice tells a sender what it got wrong; the error queue keeps the refused message itself. So a
# refusal queue keeps the newest notices only: a week of them, a thousand at most.
REFUSAL_QUEUE_LENGTH = 1000
REFUSAL_TTL_SECONDS = 7 * 24 * 3600
# Dead-lettering from a quorum queue is at-most-once unless asked otherwise; at-least-once needs
# reject-publish overflow (RabbitMQ >= 3.10).
QUORUM = {"x-queue-type": "quorum", "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}


@dataclass(frozen=True, eq=False)
class Parties:
    """Who is on a bus, as the domain defines it: the agencies, each consuming a queue of its own;
    the outside parties' queues (queue owner -> the parties whose messages it holds); and the agency
    that relays the late queue (its account alone may read it and republish other agencies'
    transmissions)."""

    agencies: tuple[str, ...]
    outside: Mapping[str, tuple[str, ...]]
    relay: str
    # The broker account role that speaks for a party, where it is not the party itself (an
    # employers' portal's account publishes the employer's and the worker's messages).
    accounts: Mapping[str, str] = field(default_factory=dict)
    # The account roles of the outside parties that publish on the bus: with the agencies, each has
    # a refusal queue of its own.
    outside_senders: tuple[str, ...] = ()
    # The outside party whose inbox receives a copy of every agency's journal anchors
    # (guichet/anchor_copies.py); None: the supervision service alone keeps them.
    auditor: str | None = None

    @property
    def notified(self) -> tuple[str, ...]:
        """The parties a refusal notice can go to, each reading its own refusal queue."""
        return tuple(dict.fromkeys((*self.agencies, *self.outside_senders)))


@dataclass(frozen=True)
class Topology:
    parties: Parties
    namespace: str = "guichet"
    queue_type: str = "classic"
    retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS

    def queue_name(self, owner: str) -> str:
        """The one place queue names are made: `<namespace>.<owner>`."""
        return f"{self.namespace}.{owner}"

    def exchange_name(self, queue_owner: str) -> str:
        """The exchange that leads to the queue of `queue_owner`: never that queue's own name."""
        return f"{self.namespace}.vers.{queue_owner}"

    @cached_property
    def flow(self) -> Exchange:
        return Exchange(
            f"{self.namespace}.flux",
            type="topic",
            durable=True,
            arguments={"alternate-exchange": self.unrouted_exchange.name},
        )

    @cached_property
    def replay_exchange(self) -> Exchange:
        return Exchange(f"{self.namespace}.rejeu", type="topic", durable=True)

    @cached_property
    def unrouted_exchange(self) -> Exchange:
        return Exchange(self.exchange_name("non_routes"), type="fanout", durable=True)

    @cached_property
    def errors_exchange(self) -> Exchange:
        return Exchange(self.exchange_name("erreurs"), type="topic", durable=True)

    @cached_property
    def archive_exchange(self) -> Exchange:
        return Exchange(self.exchange_name("erreurs.archive"), type="fanout", durable=True)

    @cached_property
    def refusals_exchange(self) -> Exchange:
        # topic: RabbitMQ holds each agency's account to the parties it may notify (its routing keys).
        return Exchange(f"{self.namespace}.refusals", type="topic", durable=True)

    def refusal_queue_name(self, party: str) -> str:
        return self.queue_name(f"{party}.refusals")

    def refusal_queue(self, party: str) -> Queue:
        bound = {"x-max-length": REFUSAL_QUEUE_LENGTH, "x-overflow": "drop-head"}
        return self._queue(
            f"{party}.refusals", self.refusals_exchange, [party], bound | {"x-message-ttl": REFUSAL_TTL_SECONDS * 1000}
        )

    @cached_property
    def supervision_exchange(self) -> Exchange:
        # topic: RabbitMQ holds each agency's account to its own name as routing key.
        return Exchange(self.exchange_name("supervision"), type="topic", durable=True)

    @cached_property
    def late_exchange(self) -> Exchange:
        return Exchange(self.exchange_name("retard"), type="fanout", durable=True)

    def wait_exchange(self, seconds: float) -> Exchange:
        # topic, bound with "#": RabbitMQ checks an account's topic permissions on topic exchanges only.
        return Exchange(self.exchange_name(f"attente.{seconds:g}s"), type="topic", durable=True)

    def exchanges(self) -> list[Exchange]:
        # The alternate exchange first: the flow exchange names it.
        return [
            self.unrouted_exchange,
            self.errors_exchange,
            self.archive_exchange,
            self.late_exchange,
            self.refusals_exchange,
            self.supervision_exchange,
            *(self.wait_exchange(s) for s in self.retry_delays),
            self.replay_exchange,
            self.flow,
        ]

    def __post_init__(self) -> None:
        if self.queue_type not in QUEUE_TYPES:
            raise ValueError(f"queue type {self.queue_type!r}: choose from {', '.join(QUEUE_TYPES)}")

    def _queue(
        self,
        owner: str,
        exchange: Exchange,
        keys: list[str],
        arguments: dict[str, Any] | None = None,
        also: tuple[Exchange, ...] = (),
    ) -> Queue:
        """A durable queue bound to `exchange` (and to each of `also`) with each of `keys`."""
        arguments = dict(arguments or {})
        if self.queue_type == "quorum":
            arguments |= {"x-queue-type": "quorum"}
            if "x-dead-letter-exchange" in arguments:
                arguments |= QUORUM
        return Queue(
            self.queue_name(owner),
            durable=True,
            queue_arguments=arguments,
            bindings=[binding(e, routing_key=k) for e in (exchange, *also) for k in keys],
        )

    def agency_queue(self, agency: str) -> Queue:
        arguments: dict[str, Any] = {"x-dead-letter-exchange": self.late_exchange.name}
        if self.queue_type == "quorum":
            # A message redelivered this many times (a consumer that crashes on it) is dead-lettered
            # instead of looping; the relay sends it to the error queue.
            arguments |= {"x-delivery-limit": DELIVERY_LIMIT}
        return self._queue(agency, self.flow, [f"{agency}.#"], arguments, also=(self.replay_exchange,))

    def wait_queue(self, seconds: float) -> Queue:
        return self._queue(
            f"attente.{seconds:g}s",
            self.wait_exchange(seconds),
            ["#"],
            {"x-message-ttl": int(seconds * 1000), "x-dead-letter-exchange": self.flow.name},
        )

    def queues(self) -> list[Queue]:
        return list(self._queues)

    @cached_property
    def _queues(self) -> tuple[Queue, ...]:
        # Built once: the kombu objects cost more to make than a message costs to route.
        queues = [self.agency_queue(a) for a in self.parties.agencies]
        queues += [
            self._queue(owner, self.flow, [f"{p}.#" for p in parties])
            for owner, parties in self.parties.outside.items()
        ]
        queues.append(self._queue("erreurs", self.errors_exchange, ["#"]))
        queues.append(self._queue("erreurs.archive", self.archive_exchange, [""]))
        queues.append(self._queue("non_routes", self.unrouted_exchange, [""]))
        queues.append(self._queue("retard", self.late_exchange, [""]))
        queues += [self.wait_queue(s) for s in self.retry_delays]
        queues += [self.refusal_queue(p) for p in self.parties.notified]
        queues.append(self._queue("supervision", self.supervision_exchange, ["#"], also=(self.refusals_exchange,)))
        return tuple(queues)

    def declare(self, connection: Connection) -> dict[str, str]:
        """Declare every exchange and queue, checking what exists against what is asked.

        Returns the queues that could not be declared now, with why: on a cluster, a classic queue
        whose node is down answers 404 "home node ... is down". A service still consumes the queues
        it has; it is not held up by another's. A queue or exchange of another type or arguments
        raises `TopologyMismatch` naming it."""
        for exchange in self.exchanges():
            declare_exchange(connection, exchange)
        unavailable: dict[str, str] = {}
        for queue in self.queues():
            problem = declare_queue(connection, queue)
            if problem is not None:
                unavailable[queue.name] = problem
        return unavailable
