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
  RabbitMQ then holds each agency to keys addressed to itself there too, and an operator's replay
  sends the message back by that key, which the broker checked, not by a header anyone could write.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from kombu import Exchange, Queue, binding

RETRY_DELAYS_SECONDS = (1, 10, 60)
DELIVERY_LIMIT = 10


@dataclass(frozen=True, eq=False)
class Parties:
    """Who is on a bus, as the domain defines it: the agencies, each consuming a queue of its own;
    the outside parties' queues (queue owner -> the parties whose messages it holds); and the agency
    that relays the late queue (its account alone may read it and republish other agencies'
    transmissions)."""
    agencies: tuple[str, ...]
    outside: Mapping[str, tuple[str, ...]]
    relay: str


@dataclass(frozen=True)
class Topology:
    parties: Parties
    namespace: str = "guichet"
    queue_type: str = "classic"
    retry_delays: tuple[float, ...] = RETRY_DELAYS_SECONDS

    def queue_name(self, owner: str) -> str:
        """The one place queue names are made: `<namespace>.<owner>`."""
        return f"{self.namespace}.{owner}"

    @property
    def flow(self) -> Exchange:
        return Exchange(f"{self.namespace}.flux", type="topic", durable=True,
                        arguments={"alternate-exchange": self.unrouted_exchange.name})

    @property
    def unrouted_exchange(self) -> Exchange:
        return Exchange(f"{self.namespace}.non_routes", type="fanout", durable=True)

    @property
    def errors_exchange(self) -> Exchange:
        return Exchange(f"{self.namespace}.erreurs", type="topic", durable=True)

    @property
    def late_exchange(self) -> Exchange:
        return Exchange(f"{self.namespace}.retard", type="fanout", durable=True)

    def wait_exchange(self, seconds: float) -> Exchange:
        # topic, bound with "#": RabbitMQ checks an account's topic permissions on topic exchanges only.
        return Exchange(f"{self.namespace}.attente.{seconds:g}s", type="topic", durable=True)

    def exchanges(self) -> list[Exchange]:
        # The alternate exchange first: the flow exchange names it.
        return [self.unrouted_exchange, self.errors_exchange, self.late_exchange,
                *(self.wait_exchange(s) for s in self.retry_delays), self.flow]

    def _queue(self, owner: str, exchange: Exchange, keys: list[str], arguments: dict | None = None) -> Queue:
        return Queue(self.queue_name(owner), exchange=exchange, durable=True, queue_arguments=arguments or {},
                     bindings=[binding(exchange, routing_key=k) for k in keys])

    def agency_queue(self, agency: str) -> Queue:
        arguments = {"x-dead-letter-exchange": self.late_exchange.name}
        if self.queue_type == "quorum":
            # A message redelivered this many times (a consumer that crashes on it) is dead-lettered
            # instead of looping; the relay sends it to the error queue.
            arguments |= {"x-queue-type": "quorum", "x-delivery-limit": DELIVERY_LIMIT,
                          "x-dead-letter-strategy": "at-least-once", "x-overflow": "reject-publish"}
        return self._queue(agency, self.flow, [f"{agency}.#"], arguments)

    def wait_queue(self, seconds: float) -> Queue:
        return self._queue(f"attente.{seconds:g}s", self.wait_exchange(seconds), ["#"],
                           {"x-message-ttl": int(seconds * 1000), "x-dead-letter-exchange": self.flow.name})

    def queues(self) -> list[Queue]:
        queues = [self.agency_queue(a) for a in self.parties.agencies]
        queues += [self._queue(owner, self.flow, [f"{p}.#" for p in parties])
                   for owner, parties in self.parties.outside.items()]
        queues.append(self._queue("erreurs", self.errors_exchange, ["#"]))
        queues.append(self._queue("non_routes", self.unrouted_exchange, [""]))
        queues.append(self._queue("retard", self.late_exchange, [""]))
        queues += [self.wait_queue(s) for s in self.retry_delays]
        return queues

    def declare(self, connection) -> None:
        """Declare what does not exist yet; leave what exists as it is. Queue arguments cannot change
        on a redeclare (PRECONDITION_FAILED), and a service may have made its queues quorum queues:
        a `submit` or an `errors` must not fail on them."""
        for entity in [*self.exchanges(), *self.queues()]:
            with connection.channel() as channel:
                try:
                    if isinstance(entity, Queue):
                        entity(channel).queue_declare(passive=True)
                    else:
                        entity(channel).declare(passive=True)
                    exists = True
                except Exception as exc:  # 404: does not exist yet (the channel is closed by the broker)
                    if "NOT_FOUND" not in str(exc) and "404" not in str(exc) and "not found" not in str(exc).lower():
                        raise
                    exists = False
            if not exists:
                with connection.channel() as channel:
                    entity(channel).declare()
                continue
            if isinstance(entity, Exchange):
                _check_exchange(connection, entity)
            for b in getattr(entity, "bindings", ()):  # a binding added since is made all the same...
                with connection.channel() as channel:
                    try:
                        channel.queue_bind(entity.name, b.exchange.name, b.routing_key)
                    except Exception as exc:  # ...by whoever may: an agency's own account may not (broker setup does)
                        if "ACCESS_REFUSED" not in str(exc):
                            raise


class TopologyMismatch(RuntimeError):
    """An entity of the bus exists on the broker with another shape than this version declares."""


def _check_exchange(connection, exchange: Exchange) -> None:
    """A passive declare does not compare types, and an exchange of the wrong type routes by other
    rules: an older direct `erreurs` exchange would drop every failed message now filed under its
    own routing key. Redeclaring an identical exchange changes nothing; a different one is refused
    by the broker, and that refusal is turned into an error an operator can act on."""
    with connection.channel() as channel:
        try:
            exchange(channel).declare()
        except Exception as exc:
            if "PRECONDITION_FAILED" in str(exc) or "406" in str(exc):
                raise TopologyMismatch(
                    f"exchange {exchange.name!r} exists on the broker but is not a durable {exchange.type} "
                    f"exchange with arguments {exchange.arguments or {}}: delete it (it is recreated) or run "
                    f"'guichet broker setup'. Broker said: {exc}") from exc
            if "ACCESS_REFUSED" not in str(exc) and "403" not in str(exc):
                raise
            # An agency's own account has no configure right: `guichet broker verify` checks types.
