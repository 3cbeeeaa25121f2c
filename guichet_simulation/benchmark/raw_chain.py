"""The whole raw chain of the benchmark's floor (guichet_simulation/benchmark/raw_relay.py): one
relay process per hop in a namespace of its own, a publisher at the head and a counter at the
tail, deleted afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

from kombu import Connection, Producer

from guichet_simulation.benchmark.raw_relay import (
    CONTENT_TYPE,
    RELAY_PREFETCH,
    RawRelayError,
    _exchange,
    _hop_key,
    _queue,
    _tls,
    body_of_size,
)
from guichet_simulation.benchmark.stats import mib, rate, summary
from guichet_simulation.logtail import tail


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
