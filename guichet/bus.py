"""kombu connections to the broker: `amqp://` for RabbitMQ, `amqps://` for RabbitMQ over TLS (see
`tls_options`), `memory://` for the embedded default.

Every publish is persistent and, on RabbitMQ, waits for the broker's confirm. Publishing uses a
connection of its own, never the one whose delivery callback is running: a confirm wait there
drains deliveries and re-enters the callback.

A cluster is given as a failover list, `amqp://a;amqp://b;amqp://c` (`Brokers`). kombu alone tries
only two of them when it first connects (its `connection` property asks for one retry,
`max_retries=1`, whatever the list's length) and always starts again from the first URL. So the
bus connects itself, trying every URL once per round, starting after the node it last used: a
service that lost its node does not knock on it first.
"""
from __future__ import annotations

import json
import os
import socket
import time
from datetime import datetime
from typing import Any, Callable, Mapping

import structlog
from amqp.exceptions import MessageNacked
from kombu import Connection, Consumer, Producer

from guichet import embedded_transport, tracing
from guichet.envelope import Envelope
from guichet.metrics import TIMESTAMP_MS
from guichet.settings import TLSConfigError, TLSSettings  # noqa: F401  (TLSConfigError: raised from here)
from guichet.pipelined import Outgoing as PipelinedMessage
from guichet.pipelined import PipelinedPublisher
from guichet.topology import Topology
from guichet.usage import UsageError

log = structlog.get_logger("guichet.bus")

HEARTBEAT_SECONDS = 10
RETRY_POLICY = {"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 3}
NACK_PATIENCE_SECONDS = 15   # longer than a quorum queue's leader election on a loaded cluster
NACK_PAUSE_SECONDS = 0.5


def tls_options(url: str, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """kombu's `ssl` argument for an `amqps://` URL from the GUICHET_TLS_* variables alone (see
    guichet/settings.py: the commands take them as flags, whose defaults these variables are)."""
    return TLSSettings.from_environ(environ).options(url)


class Brokers:
    """The URLs of a `;`-separated failover list, each tried in turn, in a rotating order: each
    connection starts with the URL after the one the last connection used."""

    def __init__(self, url: str):
        self.urls = [u.strip() for u in url.split(";") if u.strip()]
        if not self.urls:
            raise UsageError("--broker: no URL given")
        self._next = 0

    def order(self) -> list[str]:
        return self.urls[self._next:] + self.urls[:self._next]

    def used(self, connection: Connection) -> str | None:
        """Note the URL a connection ended up on; the next connection starts after it."""
        where = (connection.hostname, connection.port)
        for index, url in enumerate(self.urls):
            probe = Connection(url)
            if (probe.hostname, probe.port) == where:
                self._next = (index + 1) % len(self.urls)
                return url
        return None


CONNECT_TIMEOUT_SECONDS = 5


class Bus:
    def __init__(self, url: str, topology: Topology, heartbeat: int = HEARTBEAT_SECONDS,
                 brokers: Brokers | None = None, tls: TLSSettings | None = None):
        """`tls`: for `amqps://` URLs; by default the GUICHET_TLS_* variables."""
        self.brokers = brokers or Brokers(url)
        tls_settings = tls if tls is not None else TLSSettings.from_environ()
        self.url = url
        self.topology = topology
        self.is_memory = url.startswith("memory://")
        urls = self.brokers.order()
        # Every URL tried twice before giving up, with no pause inside a round (a dead node refuses at once).
        options = {} if self.is_memory else {"confirm_publish": True, "max_retries": 2 * len(urls) - 1,
                                             "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
        self._heartbeat = 0 if self.is_memory else heartbeat
        tls = url.startswith("amqps://")  # a dict per connection: kombu writes into it when it connects
        transport = embedded_transport.Transport if self.is_memory else None
        self.consuming = Connection(urls, heartbeat=self._heartbeat, transport_options=options,
                                    ssl=tls_settings.options(urls[0]) if tls else False, failover_strategy="round-robin",
                                    connect_timeout=CONNECT_TIMEOUT_SECONDS, transport=transport)
        self.publishing = Connection(urls, heartbeat=self._heartbeat, transport_options=dict(options),
                                     ssl=tls_settings.options(urls[0]) if tls else False, failover_strategy="round-robin",
                                     connect_timeout=CONNECT_TIMEOUT_SECONDS, transport=transport)
        self._producer: Producer | None = None
        self._pipelined: PipelinedPublisher | None = None
        # Queues bound to the consuming channel, by name: `get` is called once per message polled.
        self._bound: dict[str, Any] = {}
        self.node: str | None = None
        # Every publish names the account it is made with: RabbitMQ refuses a user_id that is not the
        # connection's, so a receiver can check which account published a delivery (guichet/admission.py).
        self._account = {} if self.is_memory else {"user_id": self.publishing.userid}

    def connect(self) -> None:
        """Connect both connections, trying every URL of the list once (kombu's own first connect
        tries two at most)."""
        if self.is_memory:
            return
        attempts = len(self.brokers.urls)
        for connection in (self.consuming, self.publishing):
            connection.ensure_connection(max_retries=attempts - 1, interval_start=0, interval_step=0,
                                         interval_max=0, timeout=CONNECT_TIMEOUT_SECONDS * attempts,
                                         reraise_as_library_errors=False)
        self.node = self.brokers.used(self.consuming)

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
            # A channel of its own, dropped when the broker closes it (a refused publish, 403): the
            # next publish opens another instead of failing on the closed one for ever.
            self._producer = Producer(self.publishing.default_channel if self.is_memory else self.publishing.channel())
        return self._producer

    def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        try:
            if producer is not None and not self.is_memory:
                producer.channel.close()
        except Exception:  # already closed by the broker
            pass

    def publish(self, body: str | bytes, routing_key: str, headers: dict[str, Any], message_id: str,
                exchange=None, content_type: str = "application/json", expiration: float | None = None) -> None:
        """Publish persistently; on RabbitMQ returns only once the broker confirmed it. Bytes go as
        they are, so that a message that could not be decoded reaches the error queue unchanged."""
        encoding = "binary" if isinstance(body, bytes) else "utf-8"
        exchange = exchange or self.topology.flow
        # Real time of publish, for the delivery latency: the AMQP timestamp (whole seconds) and milliseconds.
        sent = time.time()
        headers = {**(headers or {}), TIMESTAMP_MS: int(sent * 1000)}
        with tracing.publishing(headers, getattr(exchange, "name", str(exchange)), routing_key, message_id):
            # In process there is no link to lose and no broker to nack: no reconnecting wrapper.
            publish = self.producer.publish if self.is_memory else \
                self.publishing.ensure(self.producer, self.producer.publish, **RETRY_POLICY)
            deadline = time.monotonic() + NACK_PATIENCE_SECONDS
            while True:
                try:
                    publish(body, exchange=exchange, routing_key=routing_key,
                            headers=headers, content_type=content_type, content_encoding=encoding,
                            delivery_mode=2, message_id=message_id, declare=[], expiration=expiration,
                            timestamp=int(sent), **self._account)
                    return
                except Exception as exc:
                    # A nack: some queue could not take it, e.g. a quorum queue electing a new leader
                    # after a node loss. Not sent: send it again for a while (receivers drop doubles).
                    if not _nacked(exc) or time.monotonic() > deadline:
                        self._drop_producer()
                        raise
                    log.warning("publish refused by the broker (nack), sending it again", routing_key=routing_key)
                    time.sleep(NACK_PAUSE_SECONDS)

    def publish_batch(self, messages: list[tuple[str | bytes, str, dict[str, Any], str, float | None]]) -> None:
        """Publish (body, routing key, headers, message id, expiration) on the flow exchange, all back to
        back on a confirmed channel of their own, and return once the broker confirmed every one
        (guichet/pipelined.py): one wait for the batch instead of one per message. Raises when one
        was refused or the link dropped; the caller sends the batch again."""
        if self._pipelined is None:
            # A channel of its own: confirm tags count per channel, and `publish` waits on the default one.
            self._pipelined = PipelinedPublisher(self.publishing.channel())
        exchange = self.topology.flow.name
        outgoing = []
        for body, routing_key, headers, message_id, expiration in messages:
            headers = {**(headers or {}), TIMESTAMP_MS: int(time.time() * 1000)}
            with tracing.publishing(headers, exchange, routing_key, message_id):
                outgoing.append(PipelinedMessage(body, exchange, routing_key, headers, message_id,
                                                 expiration=expiration, user_id=self._account.get("user_id")))
        try:
            self._pipelined.publish_all(outgoing)
        except Exception:
            self._pipelined = None  # its channel's confirm count can no longer be trusted
            raise

    def publish_envelope(self, envelope: Envelope, expiration: float | None = None) -> None:
        """Publish one envelope under its routing key, with its type and version as headers."""
        self.publish(envelope.body().decode(), envelope.routing_key, envelope.headers(), str(envelope.message_id),
                     expiration=expiration)

    def to_error_queue(self, body: bytes | str, headers: dict | None, content_type: str | None,
                       context: dict[str, Any], routing_key: str) -> None:
        """Keep a failed message whole, with why it failed in `x-guichet-error-*` headers, under the
        routing key it was delivered with (`<recipient>.<type>`): the key a replay sends it back by."""
        merged = dict(headers or {})
        merged.update({f"x-guichet-error-{k}": _header_value(v) for k, v in context.items()})
        merged["x-guichet-original-content-type"] = content_type or ""
        raw = body if isinstance(body, bytes) else str(body).encode()
        self.publish(raw, routing_key=routing_key, headers=merged, message_id=str(context.get("message_id") or ""),
                     exchange=self.topology.errors_exchange, content_type=content_type or "application/octet-stream")

    def get(self, queue_name: str):
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
        return count

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
        except socket.timeout:
            came = False
        if self._heartbeat:
            self.consuming.heartbeat_check()
            _keep_alive(self.publishing)
        return came


def _keep_alive(connection: Connection) -> None:
    """The publishing connection is idle between two publishes: read what the broker sent on it
    (its heartbeats) and send ours, or the broker closes it after two missed heartbeats and the
    next publish finds it gone (a reconnect for nothing, on a service that waits for days)."""
    if not connection.connected:
        return
    try:
        connection.drain_events(timeout=0)
    except socket.timeout:
        pass
    connection.heartbeat_check()


def _nacked(exc: BaseException | None) -> bool:
    """kombu wraps the nack in its own errors: look down the chain."""
    while exc is not None:
        if isinstance(exc, MessageNacked):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _header_value(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return json.dumps(value, default=str)
