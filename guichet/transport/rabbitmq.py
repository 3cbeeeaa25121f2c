"""The bus on RabbitMQ: `amqp://`, and `amqps://` over TLS (see `tls_options`).

Every publish is persistent and waits for the broker's confirm; a batch waits once for all its
confirms (guichet/pipelined.py). The broker keeps the time: wait queues and transmissions expire
by its own TTLs.

A cluster is given as a failover list, `amqp://a;amqp://b;amqp://c` (`Brokers`). kombu alone tries
only two of them when it first connects (its `connection` property asks for one retry,
`max_retries=1`, whatever the list's length) and always starts again from the first URL. So the
bus connects itself, trying every URL once per round, starting after the node it last used: a
service that lost its node does not knock on it first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import structlog
from amqp.exceptions import MessageNacked
from kombu.connection import Connection

from guichet import amqp_headers, tracing
from guichet.metrics import TIMESTAMP_MS
from guichet.pipelined import Outgoing as PipelinedMessage
from guichet.pipelined import PipelinedPublisher
from guichet.settings import TLSSettings
from guichet.transport.base import CONNECT_TIMEOUT_SECONDS, Batched, Transport

log = structlog.get_logger("guichet.bus")

RETRY_POLICY = {"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 3}
NACK_PATIENCE_SECONDS = 15  # longer than a quorum queue's leader election on a loaded cluster
NACK_PAUSE_SECONDS = 0.5


def tls_options(url: str, tls: TLSSettings) -> dict[str, Any]:
    """kombu's `ssl` argument for an `amqps://` URL, from the settings the command line gives."""
    return tls.options(url)


class RabbitMQ(Transport, default=True):
    schemes = ("amqp", "amqps", "pyamqp")

    def __init__(self, *args: Any, **kwargs: Any):
        self._pipelined: PipelinedPublisher | None = None
        super().__init__(*args, **kwargs)

    def _connection(self, urls: list[str], heartbeat: int, tls: TLSSettings | None) -> Connection:
        tls_settings = tls if tls is not None else TLSSettings()
        tls_settings.refuse_clear_text(";".join(urls))  # never TLS options ignored on an amqp:// URL
        self._heartbeat = heartbeat
        # Every URL tried twice before giving up, with no pause inside a round (a dead node refuses at once).
        options = {
            "confirm_publish": True,
            "max_retries": 2 * len(urls) - 1,
            "interval_start": 0,
            "interval_step": 0.5,
            "interval_max": 1,
        }
        # A dict per connection: kombu writes into it when it connects.
        ssl = tls_settings.options(urls[0]) if self.url.startswith("amqps://") else False
        return Connection(
            urls,
            heartbeat=heartbeat,
            transport_options=options,
            ssl=ssl,
            failover_strategy="round-robin",
            connect_timeout=CONNECT_TIMEOUT_SECONDS,
        )

    @property
    def account(self) -> str | None:
        # RabbitMQ refuses a user_id that is not the connection's, so a receiver can check which
        # account published a delivery (guichet/admission.py).
        return self.publishing.userid

    def connect(self) -> None:
        """Connect both connections, trying every URL of the list once (kombu's own first connect
        tries two at most)."""
        attempts = len(self.brokers.urls)
        for connection in (self.consuming, self.publishing):
            connection.ensure_connection(
                max_retries=attempts - 1,
                interval_start=0,
                interval_step=0,
                interval_max=0,
                timeout=CONNECT_TIMEOUT_SECONDS * attempts,
                reraise_as_library_errors=False,
            )
        self.node = self.brokers.used(self.consuming)

    def _producer_channel(self) -> Any:
        # A channel of its own, dropped when the broker closes it (a refused publish, 403): the
        # next publish opens another instead of failing on the closed one for ever.
        return self.publishing.channel()

    def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        try:
            if producer is not None:
                producer.channel.close()
        except Exception:  # already closed by the broker
            pass

    def _send(self, publish: Callable[..., Any], routing_key: str, **message: Any) -> None:
        publish = self.publishing.ensure(self.producer, publish, **RETRY_POLICY)
        deadline = time.monotonic() + NACK_PATIENCE_SECONDS
        while True:
            try:
                publish(routing_key=routing_key, **message)
                return
            except Exception as exc:
                # A nack: some queue could not take it, e.g. a quorum queue electing a new leader
                # after a node loss. Not sent: send it again for a while (receivers drop doubles).
                if not _nacked(exc) or time.monotonic() > deadline:
                    self._drop_producer()
                    raise
                log.warning("publish refused by the broker (nack), sending it again", routing_key=routing_key)
                time.sleep(NACK_PAUSE_SECONDS)

    def publish_batch(self, messages: list[Batched]) -> None:
        """All back to back on a confirmed channel of their own, then one wait for every confirm
        (guichet/pipelined.py) instead of one per message."""
        if self._pipelined is None:
            # A channel of its own: confirm tags count per channel, and `publish` waits on the default one.
            self._pipelined = PipelinedPublisher(self.publishing.channel())
        exchange = self.topology.flow.name
        outgoing = []
        for body, routing_key, headers, message_id, expiration in messages:
            headers = amqp_headers.outgoing(headers or {})  # as Transport.publish: types every client decodes
            headers[TIMESTAMP_MS] = float(int(time.time() * 1000))
            with tracing.publishing(headers, exchange, routing_key, message_id):
                outgoing.append(
                    PipelinedMessage(
                        body, exchange, routing_key, headers, message_id, expiration=expiration, user_id=self.account
                    )
                )
        try:
            self._pipelined.publish_all(outgoing)
        except Exception:
            self._pipelined = None  # its channel's confirm count can no longer be trusted
            raise

    def ack_batch(self, messages: list[Any]) -> None:
        # One `multiple` ack: every delivery of the channel up to the last one.
        if messages:
            messages[-1].ack(multiple=True)

    def _drained(self) -> None:
        if self._heartbeat:
            self.consuming.heartbeat_check()
            _keep_alive(self.publishing)


def _keep_alive(connection: Connection) -> None:
    """The publishing connection is idle between two publishes: read what the broker sent on it
    (its heartbeats) and send ours, or the broker closes it after two missed heartbeats and the
    next publish finds it gone (a reconnect for nothing, on a service that waits for days)."""
    if not connection.connected:
        return
    try:
        connection.drain_events(timeout=0)
    except TimeoutError:
        pass
    connection.heartbeat_check()


def _nacked(exc: BaseException | None) -> bool:
    """kombu wraps the nack in its own errors: look down the chain."""
    while exc is not None:
        if isinstance(exc, MessageNacked):
            return True
        exc = exc.__cause__ or exc.__context__
    return False
