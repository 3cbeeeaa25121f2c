"""The floor the bus is measured against: a chain of plain kombu relays, one process per hop.

Each relay consumes from its queue, publishes the same body to the next queue with the broker's
confirmation (a connection of its own for publishing, as the bus does), then acks. Queues are
durable and classic, messages persistent, the exchange a topic exchange: what the bus pays for
its transport, without decoding, validation, registers or an outbox.

`python -m guichet_simulation.benchmark.raw_relay ...` runs one relay; `run_raw` runs the whole chain in a
namespace of its own and deletes it afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kombu import Connection, Consumer, Exchange, Producer, Queue

from guichet.bus import tls_options
from guichet.settings import TLSSettings
from guichet_simulation.benchmark.stats import mib, peak_rss_kib, rate, summary
from guichet_simulation.logtail import tail

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


# --- the chain -----------------------------------------------------------------------------------


def run_raw(
    broker: str,
    hops: int,
    messages: int,
    body_bytes: int,
    workdir: Path,
    timeout: float,
    prefetch: int = RELAY_PREFETCH,
) -> dict:
    """Push `messages` bodies of `body_bytes` through `hops` relay processes; the figures, measured
    as the bus is: from the first injection to the last hop's receipt of the last message, counting
    every publish the broker confirmed within that time."""
    if hops < 1:
        raise RawRelayError("the relay chain needs at least one hop")
    namespace = f"bench-raw-{uuid.uuid4().hex[:10]}"
    workdir.mkdir(parents=True, exist_ok=True)
    exchange = _exchange(namespace)
    queues = [_queue(namespace, _hop_key(i, hops)) for i in range(hops + 1)]
    conn = Connection(broker, heartbeat=0, transport_options={"confirm_publish": True}, ssl=_tls(broker))
    procs: list[subprocess.Popen] = []
    logs = []
    try:
        channel = conn.default_channel
        exchange(channel).declare()
        for queue in queues:
            queue(channel).declare()
        idle = max(30.0, timeout)
        for i in range(hops):
            log = open(workdir / f"relay{i}.log", "wb")
            logs.append(log)
            procs.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "guichet_simulation.benchmark.raw_relay",
                        "--broker",
                        broker,
                        "--namespace",
                        namespace,
                        "--index",
                        str(i),
                        "--hops",
                        str(hops),
                        "--count",
                        str(messages),
                        "--prefetch",
                        str(prefetch),
                        "--stats",
                        str(workdir / f"relay{i}.json"),
                        "--ready",
                        str(workdir / f"relay{i}.ready"),
                        "--idle-timeout",
                        str(idle),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        _wait_ready(procs, workdir, hops)

        body = body_of_size(body_bytes)
        producer = Producer(channel)
        injected: list[float] = []
        started = time.time()
        for n in range(messages):
            producer.publish(
                body,
                exchange=exchange,
                routing_key=_hop_key(0, hops),
                headers={"t": time.time(), "n": n},
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
                message_id=str(uuid.uuid4()),
                declare=[],
            )
            injected.append(time.time())
        deadline = time.monotonic() + timeout
        for i, proc in enumerate(procs):
            remaining = deadline - time.monotonic()
            try:
                proc.wait(timeout=max(0.1, remaining))
            except subprocess.TimeoutExpired:
                raise RawRelayError(
                    f"timeout: relay hop {i} had not relayed its {messages} messages after {timeout:.0f} s"
                ) from None
        stats = []
        for i, proc in enumerate(procs):
            path = workdir / f"relay{i}.json"
            if proc.returncode != 0 or not path.exists():
                raise RawRelayError(
                    f"relay hop {i} exited with status {proc.returncode}: {tail(workdir / f'relay{i}.log', 15)}"
                )
            stats.append(json.loads(path.read_text()))
        sink_depth = queues[-1](channel).queue_declare(passive=True).message_count
        end = max(stats[-1]["received"])
        confirmed = [t for t in injected if t <= end] + [t for s in stats for t in s["confirmed"] if t <= end]
        wall = end - started
        latencies_ms = [x * 1000 for s in stats for x in s["latencies"]]
        rss = [s.get("peak_rss_kib") for s in stats if s.get("peak_rss_kib")]
        return {
            "hops": hops,
            "processes": hops,
            "body_bytes": len(body),
            "injected": messages,
            "delivered_to_sink": sink_depth,
            "wall_s": round(wall, 3),
            "messages": len(confirmed),
            "messages_per_s": rate(len(confirmed), wall),
            "latency_ms": summary(latencies_ms),
            "peak_rss_mib_max": mib(max(rss)) if rss else None,
        }
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        for log in logs:
            log.close()
        try:
            channel = conn.default_channel
            for queue in queues:
                channel.queue_delete(queue.name)
            channel.exchange_delete(exchange.name)
        except Exception:
            pass
        conn.release()


def _wait_ready(procs: list[subprocess.Popen], workdir: Path, hops: int, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        for i, proc in enumerate(procs):
            if proc.poll() is not None:
                raise RawRelayError(
                    f"relay hop {i} exited with status {proc.returncode} before consuming: "
                    f"{tail(workdir / f'relay{i}.log', 15)}"
                )
        if all((workdir / f"relay{i}.ready").exists() for i in range(hops)):
            return
        time.sleep(0.05)
    raise RawRelayError(f"the relay processes were not consuming after {limit:.0f} s")


if __name__ == "__main__":
    sys.exit(main())
