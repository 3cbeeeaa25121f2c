"""What the kit sees of the bus: a copy of every message on the flow exchange and of every message
filed in the error queue, taken through queues of its own so that nobody else's queue is read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from kombu import Connection

from guichet.topology import Topology


@dataclass(frozen=True)
class Seen:
    """One message as it crossed the bus; `envelope` is None when its body is not JSON."""

    routing_key: str
    headers: dict[str, Any]
    body: str
    envelope: dict[str, Any] | None

    @property
    def sender(self) -> str | None:
        sender = (self.envelope or {}).get("sender")
        return sender.get("agency") if isinstance(sender, dict) else self.headers.get("sender")

    def mentions(self, message_id: str) -> bool:
        return message_id in self.body or message_id in json.dumps(self.headers, default=str)


class Tap:
    def __init__(self, broker: str, topology: Topology):
        self._connection = Connection(broker)
        self._channel = self._connection.channel()
        self.flow: list[Seen] = []
        self.errors: list[Seen] = []
        self._queues = {
            "flow": self._bind(topology.flow.name),
            "errors": self._bind(topology.errors_exchange.name),
        }

    def _bind(self, exchange: str) -> str:
        # Exclusive and server-named: it goes when the kit disconnects, whatever happens to it.
        name = self._channel.queue_declare(queue="", exclusive=True, auto_delete=True).queue
        self._channel.queue_bind(name, exchange=exchange, routing_key="#")
        return name

    def drain(self) -> int:
        taken = 0
        for kind, queue in self._queues.items():
            while (message := self._channel.basic_get(queue, no_ack=True)) is not None:
                body = message.body.decode() if isinstance(message.body, bytes) else str(message.body)
                try:
                    envelope = json.loads(body)
                except ValueError:
                    envelope = None
                seen = Seen(
                    message.delivery_info.get("routing_key", ""),
                    dict(message.properties.get("application_headers") or {}),
                    body,
                    envelope if isinstance(envelope, dict) else None,
                )
                (self.flow if kind == "flow" else self.errors).append(seen)
                taken += 1
        return taken

    def sent_by(self, agency: str, dossier_id: str | None = None) -> list[Seen]:
        return [
            s
            for s in self.flow
            if s.sender == agency and (dossier_id is None or (s.envelope or {}).get("dossier_id") == dossier_id)
        ]

    def close(self) -> None:
        self._connection.release()
