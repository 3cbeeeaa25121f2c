"""What the runtime asks of a bus, whichever broker carries it.

- publish, persistently, and return once the broker took it (a publisher confirm on RabbitMQ);
- publish many and wait once for all their confirms (`publish_batch`: an outbox flush);
- publish after a delay (`publish_later`: a delayed retry, through the topology's wait queues);
- take what waits in a queue (`get`) or consume it (`consumer`, `drain`), and ack a batch of
  deliveries (`ack_batch`);
- declare and verify the topology, and delete it when a run is over.

Two implementations, chosen by the URL's scheme: `amqp://` and `amqps://` for RabbitMQ
(guichet/transport/rabbitmq.py), `memory://` for the embedded in-process broker
(guichet/transport/embedded.py), which keeps the broker's own rules (TTL, dead-lettering) on the
runtime's clock. Both are kombu connections: what kombu does the same way on both lives here.
Callers never ask which one they have; `Transport(url, topology)` gives the right one.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

import structlog
from kombu.connection import Connection
from kombu.entity import Exchange
from kombu.messaging import Consumer, Producer

from guichet import tracing
from guichet.amqp_headers import outgoing
from guichet.clock import Clock, SystemClock
from guichet.envelope import Envelope
from guichet.metrics import TIMESTAMP_MS
from guichet.settings import TLSSettings
from guichet.topology import Topology
from guichet.transport.brokers import Brokers

log = structlog.get_logger("guichet.bus")

HEARTBEAT_SECONDS = 10
CONNECT_TIMEOUT_SECONDS = 5

# One message of a batch: body, routing key, headers, message id, expiration (seconds, or None).
Batched = tuple[str | bytes, str, dict[str, Any], str, float | None]


class Transport:
    """A bus: two kombu connections to one broker, one consuming and one publishing.

    Publishing uses a connection of its own, never the one whose delivery callback is running: a
    confirm wait there drains deliveries and re-enters the callback."""

    # The URL schemes an implementation serves; the first registered for a scheme answers it.
    schemes: ClassVar[tuple[str, ...]] = ()
    _by_scheme: ClassVar[dict[str, type[Transport]]] = {}
    _default: ClassVar[type[Transport] | None] = None

    def __init_subclass__(cls, default: bool = False, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        for scheme in cls.schemes:
            Transport._by_scheme.setdefault(scheme, cls)
        if default:
            Transport._default = cls

    def __new__(cls, url: str, *args: Any, **kwargs: Any) -> Transport:
        if cls is Transport:
            # kombu reads the scheme of the first URL of a failover list the same way.
            scheme = url.split(";")[0].strip().partition("://")[0]
            cls = Transport._by_scheme.get(scheme) or Transport._default or cls
        return super().__new__(cls)

    def __init__(
        self,
        url: str,
        topology: Topology,
        heartbeat: int = HEARTBEAT_SECONDS,
        brokers: Brokers | None = None,
        tls: TLSSettings | None = None,
        clock: Clock | None = None,
    ):
        """`tls`: for `amqps://` URLs (by default the GUICHET_TLS_* variables); `clock`: the time the
        embedded broker keeps its TTLs by (the simulator's virtual clock; real time by default)."""
        self.brokers = brokers or Brokers(url)
        self.url = url
        self.topology = topology
        self.clock = clock or SystemClock()
        urls = self.brokers.order()
        self.consuming = self._connection(urls, heartbeat, tls)
        self.publishing = self._connection(urls, heartbeat, tls)
        self._producer: Producer | None = None
        # Queues bound to the consuming channel, by name: `get` is called once per message polled.
        self._bound: dict[str, Any] = {}
        self.node: str | None = None

    # What each implementation says for itself.
    def _connection(self, urls: list[str], heartbeat: int, tls: TLSSettings | None) -> Connection:
        raise NotImplementedError

    @property
    def account(self) -> str | None:
        """The broker account every publish names (the AMQP `user_id`), None when the broker has none."""
        return None

    def connect(self) -> None:
        """Connect both connections now rather than at the first use."""

    def _send(self, publish: Callable[..., Any], routing_key: str, **message: Any) -> None:
        """Hand one message to the broker and return once it took it."""
        publish(routing_key=routing_key, **message)

    def publish_batch(self, messages: list[Batched]) -> None:
        """Publish each on the flow exchange; return once the broker took every one. Raises when one
        was refused or the link dropped: the caller sends the batch again (receivers drop doubles)."""
        for body, routing_key, headers, message_id, expiration in messages:
            self.publish(body, routing_key, headers, message_id, expiration=expiration)

    def ack_batch(self, messages: list[Any]) -> None:
        """Ack deliveries of one channel, taken in order, once what they caused was committed."""
        for message in messages:
            message.ack()

    def next_due(self) -> datetime | None:
        """When, on its clock, this bus next moves a message by itself (a wait queue's TTL running
        out), for a caller that moves the clock (the simulator); None when it keeps no such time."""
        return None

    def _drained(self) -> None:
        """Called after each wait for deliveries (heartbeats, on a broker that wants them)."""

    # The same on every kombu transport.
    def declare(self) -> dict[str, str]:
        """Declare the topology; returns the queues that are not available now (see Topology.declare)."""
        self.connect()
        unavailable = self.topology.declare(self.publishing)
        for name, problem in unavailable.items():
            log.warning("queue not available now", queue=name, error=problem)
        return unavailable

    def delete_topology(self) -> None:
        """Delete this namespace's queues and exchanges: a simulation or a bench leaves nothing behind."""
        try:
            with self.publishing.channel() as channel:
                for queue in self.topology.queues():
                    channel.queue_delete(queue.name)
                for exchange in self.topology.exchanges():
                    channel.exchange_delete(exchange.name)
        except Exception as exc:  # cleanup must not hide the result
            log.warning("could not delete the namespace's queues", error=str(exc))

    def close(self) -> None:
        for conn in (self.consuming, self.publishing):
            try:
                conn.release()
            except Exception:  # closing a dead connection must not hide the real error
                pass

    @property
    def producer(self) -> Producer:
        if self._producer is None:
            self._producer = Producer(self._producer_channel())
        return self._producer

    def _producer_channel(self) -> Any:
        return self.publishing.default_channel

    def _drop_producer(self) -> None:
        self._producer = None

    def publish(
        self,
        body: str | bytes,
        routing_key: str,
        headers: dict[str, Any],
        message_id: str,
        exchange: Exchange | None = None,
        content_type: str = "application/json",
        expiration: float | None = None,
    ) -> None:
        """Publish persistently; returns only once the broker took it. Bytes go as they are, so that
        a message that could not be decoded reaches the error queue unchanged."""
        encoding = "binary" if isinstance(body, bytes) else "utf-8"
        exchange = exchange or self.topology.flow
        # Real time of publish, for the delivery latency: the AMQP timestamp (whole seconds) and milliseconds.
        sent = time.time()
        # Only field types every AMQP client decodes (guichet/amqp_headers.py); a double, not the
        # 64-bit integer py-amqp would write.
        headers = outgoing(headers or {})
        headers[TIMESTAMP_MS] = float(int(sent * 1000))
        with tracing.publishing(headers, getattr(exchange, "name", str(exchange)), routing_key, message_id):
            account = {} if self.account is None else {"user_id": self.account}
            self._send(
                self.producer.publish,
                routing_key,
                body=body,
                exchange=exchange,
                headers=headers,
                content_type=content_type,
                content_encoding=encoding,
                delivery_mode=2,
                message_id=message_id,
                declare=[],
                expiration=expiration,
                timestamp=int(sent),
                **account,
            )

    def publish_later(
        self,
        delay: float,
        body: str | bytes,
        routing_key: str,
        headers: dict[str, Any],
        message_id: str,
        content_type: str = "application/json",
    ) -> None:
        """Publish on the flow after `delay` seconds, through the wait queue of that delay (one of
        the topology's `retry_delays`): it holds the message for its TTL, then dead-letters it back
        to the flow under its routing key. Nothing is held unacked or in memory meanwhile."""
        self.publish(
            body,
            routing_key,
            headers,
            message_id,
            exchange=self.topology.wait_exchange(delay),
            content_type=content_type,
        )

    def publish_envelope(self, envelope: Envelope, expiration: float | None = None) -> None:
        """Publish one envelope under its routing key, with its type and version as headers."""
        self.publish(
            envelope.body().decode(),
            envelope.routing_key,
            envelope.headers(),
            str(envelope.message_id),
            expiration=expiration,
        )

    def to_error_queue(
        self,
        body: bytes | str,
        headers: dict[str, Any] | None,
        content_type: str | None,
        context: dict[str, Any],
        routing_key: str,
    ) -> None:
        """Keep a failed message whole, with why it failed in `x-guichet-error-*` headers, under the
        routing key it was delivered with (`<recipient>.<type>`): the key a replay sends it back by."""
        merged = dict(headers or {})
        merged.update({f"x-guichet-error-{k}": v for k, v in context.items()})  # typed by publish
        merged["x-guichet-original-content-type"] = content_type or ""
        raw = body if isinstance(body, bytes) else str(body).encode()
        self.publish(
            raw,
            routing_key=routing_key,
            headers=merged,
            message_id=str(context.get("message_id") or ""),
            exchange=self.topology.errors_exchange,
            content_type=content_type or "application/octet-stream",
        )

    def get(self, queue_name: str) -> Any:
        """One message from a queue, or None: `simulate` polls so that it knows when all is quiet."""
        channel = self.consuming.default_channel
        bound = self._bound.get(queue_name)
        if bound is None or bound.channel is not channel:  # bound again after a reconnect
            queue = next(q for q in self.topology.queues() if q.name == queue_name)
            bound = self._bound[queue_name] = queue(channel)
        return bound.get(no_ack=False, accept=None)

    def depth(self, queue_name: str) -> int:
        queue = next(q for q in self.topology.queues() if q.name == queue_name)
        _, count, _ = queue(self.consuming.default_channel).queue_declare(passive=True)
        return int(count)

    def consumer(self, queue_names: list[str], callback: Callable[[Any], None], prefetch: int = 20) -> Consumer:
        queues = [q for q in self.topology.queues() if q.name in queue_names]
        channel = self.consuming.channel()
        channel.basic_qos(0, prefetch, False)
        # on_message, not callbacks: kombu would decode the body before the callback, and a body it
        # cannot decode would raise inside drain_events, redelivered forever. Ours decodes it.
        # auto_declare=False: declare() made them; a non-passive redeclare needs configure rights.
        return Consumer(channel, queues=queues, on_message=callback, no_ack=False, accept=None, auto_declare=False)

    def drain(self, timeout: float) -> bool:
        """Wait up to `timeout` for what the broker sends; True when something came."""
        try:
            self.consuming.drain_events(timeout=timeout)
            came = True
        except TimeoutError:
            came = False
        self._drained()
        return came
