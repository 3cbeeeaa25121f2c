"""The floor the bus is measured against: a chain of plain kombu relays, one process per hop.

Each relay consumes from its queue, publishes the same body to the next queue with the broker's
confirmation (a connection of its own for publishing, as the bus does), then acks. Queues are
durable and classic, messages persistent, the exchange a topic exchange: what the bus pays for
its transport, without decoding, validation, registers or an outbox.

`python -m guichet_simulation.benchmark.raw_relay ...` runs one relay; `run_raw`
(guichet_simulation/benchmark/raw_chain.py) runs the whole chain in a namespace of its own and
deletes it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue

from guichet.bus import tls_options
from guichet.settings import TLSSettings
from guichet_simulation.benchmark.stats import peak_rss_kib

CONTENT_TYPE = "application/json"
# The relay's prefetch since the bench began: it waits for each confirm, so more in flight would
# not speed it up, and the ratio keeps comparing against the same relay.
RELAY_PREFETCH = 20


class RawRelayError(Exception):
    """The relay chain did not finish; the message says which hop and why."""


def _tls(broker: str):
    """The same TLS settings as the bus (GUICHET_TLS_*, which a relay process inherits from the bench),
    so that both sides of the ratio use TLS alike."""
    return tls_options(broker, TLSSettings.from_variables(os.environ)) if broker.startswith("amqps://") else False


def _exchange(namespace: str) -> Exchange:
    return Exchange(f"{namespace}.flux", type="topic", durable=True)


def _queue(namespace: str, key: str) -> Queue:
    exchange = _exchange(namespace)
    return Queue(f"{namespace}.{key}", exchange=exchange, routing_key=key, durable=True)


def _hop_key(index: int, hops: int) -> str:
    return "sink" if index >= hops else f"hop{index}"


def body_of_size(size: int) -> bytes:
    """A JSON object of exactly `size` bytes (at least the 11 of '{"pad":""}' plus one)."""
    skeleton = b'{"pad":""}'
    return b'{"pad":"' + b"x" * max(0, size - len(skeleton)) + b'"}'


# --- one relay process ---------------------------------------------------------------------------


def relay(
    broker: str,
    namespace: str,
    index: int,
    hops: int,
    count: int,
    prefetch: int,
    stats_path: Path,
    ready_path: Path,
    idle_timeout: float,
) -> int:
    """Relay `count` messages from hop `index` to the next one, then write what it saw."""
    exchange = _exchange(namespace)
    out_key = _hop_key(index + 1, hops)
    consuming = Connection(broker, heartbeat=0, ssl=_tls(broker))
    publishing = Connection(broker, heartbeat=0, transport_options={"confirm_publish": True}, ssl=_tls(broker))
    received: list[float] = []
    confirmed: list[float] = []
    latencies: list[float] = []
    try:
        producer = Producer(publishing.default_channel)

        def on_message(message) -> None:
            started = time.time()
            headers = message.headers or {}
            received.append(started)
            latencies.append(started - float(headers.get("t", started)))
            producer.publish(
                message.body,
                exchange=exchange,
                routing_key=out_key,
                headers={"t": started, "n": headers.get("n")},
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=str(uuid.uuid4()),
                declare=[],
            )
            confirmed.append(time.time())  # publish returned: the broker confirmed
            message.ack()

        channel = consuming.channel()
        channel.basic_qos(0, prefetch, False)
        consumer = Consumer(
            channel,
            queues=[_queue(namespace, _hop_key(index, hops))],
            on_message=on_message,
            no_ack=False,
            auto_declare=False,
        )
        consumer.consume()
        ready_path.write_text(str(time.time()))
        last = time.monotonic()
        while len(received) < count:
            before = len(received)
            try:
                consuming.drain_events(timeout=1.0)
            except TimeoutError:
                pass
            if len(received) != before:
                last = time.monotonic()
            elif time.monotonic() - last > idle_timeout:
                break
    finally:
        stats_path.write_text(
            json.dumps(
                {
                    "received": received,
                    "confirmed": confirmed,
                    "latencies": latencies,
                    "peak_rss_kib": peak_rss_kib_self(),
                }
            )
        )
        for conn in (consuming, publishing):
            try:
                conn.release()
            except Exception:
                pass
    return 0 if len(received) >= count else 1


def peak_rss_kib_self() -> int | None:
    return peak_rss_kib(os.getpid())


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m guichet_simulation.benchmark.raw_relay",
        description="one hop of the raw kombu relay chain of `guichet bench`",
    )
    p.add_argument("--broker", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("--index", type=int, required=True)
    p.add_argument("--hops", type=int, required=True)
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--prefetch", type=int, default=RELAY_PREFETCH)
    p.add_argument("--stats", type=Path, required=True)
    p.add_argument("--ready", type=Path, required=True)
    p.add_argument("--idle-timeout", type=float, default=60.0)
    a = p.parse_args(argv)
    return relay(a.broker, a.namespace, a.index, a.hops, a.count, a.prefetch, a.stats, a.ready, a.idle_timeout)


if __name__ == "__main__":
    sys.exit(main())
