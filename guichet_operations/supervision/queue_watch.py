"""The depth and consumers of each agency's queues, measured by the supervision service itself (a
passive declare, which RabbitMQ answers without any permission on the queue) rather than taken from
what an agency says of itself: the services page shows what the broker says.

The figures go on the agency's `sources` row once its first audit copy is there (the row carries
the bus clock, which only a copy gives)."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from guichet.bus import Bus
from guichet.topology import Topology
from guichet_operations.supervision.store import Store

log = structlog.get_logger("guichet.supervision")

EVERY_SECONDS = 10.0


def watched_queues(topology: Topology) -> dict[str, list[str]]:
    """Per agency, the queues it consumes: its own, and the late queue for the relay (the DT-OFII)."""
    names = {queue.name for queue in topology.queues()}
    watched = {agency: [topology.queue_name(agency)] for agency in topology.parties.agencies}
    late = topology.queue_name("retard")
    if late in names:
        watched[topology.parties.relay].append(late)
    return {agency: [q for q in queues if q in names] for agency, queues in watched.items()}


def measure(bus: Bus, queue_names: list[str]) -> dict[str, dict[str, int]]:
    """{queue: {"messages": n, "consumers": c}} for the queues that exist; one channel per round,
    opened again after a queue that is not there (a 404 closes the channel)."""
    found: dict[str, dict[str, int]] = {}
    channel = bus.consuming.channel()
    try:
        for name in queue_names:
            try:
                _, messages, consumers = channel.queue_declare(queue=name, passive=True)
            except Exception as exc:  # not declared yet, or its node is down: said, and the next one measured
                log.info("queue not measured", queue=name, error=str(exc)[:200])
                channel.close()
                channel = bus.consuming.channel()
                continue
            found[name] = {"messages": int(messages), "consumers": int(consumers)}
    finally:
        try:
            channel.close()
        except Exception:  # a channel the broker already closed
            pass
    return found


@dataclass
class QueueWatch:
    store: Store
    topology: Topology
    every_seconds: float = EVERY_SECONDS
    _last: float = field(default=-1e9)

    def due(self) -> bool:
        return time.monotonic() - self._last >= self.every_seconds

    def run(self, bus: Bus) -> dict[str, Any]:
        self._last = time.monotonic()
        figures = {}
        for agency, queues in watched_queues(self.topology).items():
            figures[agency] = measure(bus, queues)
        with self.store.transaction() as tx:
            for agency, queues in figures.items():
                tx.execute("UPDATE sources SET queues = ? WHERE agency = ?", json.dumps(queues), agency)
        return figures
