"""The error queue as operators see it: list, show, replay, purge, by id, failure group or time.

RabbitMQ has no browse operation: messages are taken without acknowledgement, and those not
replayed or purged return to the queue, in their order, when the channel closes. A replayed
message is published back to its queue before it leaves the error queue, so nothing is lost
between the two, and it carries the history of its failures with it. It goes back under the
routing key it reached the error exchange with: an agency's account may only write keys addressed
to itself there, so a replay cannot carry a message an agency put in the error queue to another.
It goes through the replay exchange (`<ns>.rejeu`), bound to the agency queues only: the operator's
account may not publish on the flow exchange, and a receiver accepts what that account published
only when it is signed by its sender and marked as a replay (`x-guichet-replays`).

A delivery filed twice (the broker confirmed the filing, then the service or the broker crashed
before the original's ack, and the original came back) carries the same `x-guichet-filing-id`
both times: it is one entry here, replayed once, and every copy leaves the queue with it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from guichet.bus import Bus

PREFIX = "x-guichet-error-"
HISTORY = "x-guichet-history"
REPLAYS = "x-guichet-replays"
FILING_ID = "x-guichet-filing-id"


@dataclass
class ErrorEntry:
    message: Any = field(repr=False)
    id: str
    type: str | None
    dossier_id: str | None
    reason: str
    exception: str
    error: str
    queue: str | None
    routing_key: str | None
    attempts: int
    first_failure: str | None
    last_failure: str | None
    traceback: str
    replays: int
    history: list[dict]
    headers: dict
    copies: list = field(default_factory=list, repr=False)  # the same filing, delivered again

    @property
    def filing_id(self) -> str | None:
        return self.headers.get(FILING_ID)

    @property
    def group(self) -> str:
        """Failures that share a cause: reason, exception and queue."""
        return f"{self.reason}/{self.exception}/{self.queue}"

    @property
    def body(self) -> bytes:
        body = self.message.body
        return body if isinstance(body, bytes) else body.encode()

    def summary(self) -> dict:
        return {
            "id": self.id,
            "group": self.group,
            "type": self.type,
            "dossier_id": self.dossier_id,
            "reason": self.reason,
            "exception": self.exception,
            "error": self.error,
            "queue": self.queue,
            "routing_key": self.routing_key,
            "attempts": self.attempts,
            "first_failure": self.first_failure,
            "last_failure": self.last_failure,
            "replays": self.replays,
            "history": self.history,
            "copies": 1 + len(self.copies),
        }


def _entry(message) -> ErrorEntry:
    h = dict(message.headers or {})
    get = lambda name, default=None: h.get(PREFIX + name, default)  # noqa: E731
    history = h.get(HISTORY) or "[]"
    return ErrorEntry(
        message=message,
        id=str(get("message_id") or message.properties.get("message_id") or _body_id(message)),
        type=h.get("type"),
        dossier_id=h.get("dossier_id"),
        reason=str(get("reason", "")),
        exception=str(get("exception", "")),
        error=str(get("message", "")),
        queue=get("queue"),
        # The key the message was published under, which the broker checked against the publishing
        # account's topic permissions; the `routing-key` header is only what its sender said.
        routing_key=(message.delivery_info or {}).get("routing_key"),
        attempts=int(get("attempts", 1) or 1),
        first_failure=get("first-failure"),
        last_failure=get("last-failure"),
        traceback=str(get("traceback", "")),
        replays=int(h.get(REPLAYS, 0) or 0),
        history=json.loads(history) if isinstance(history, str) else history,
        headers=h,
    )


def _body_id(message) -> str:
    """A message that failed before any id could be read from it (an undecodable body without a
    message id) is named by its body's hash, so that it can still be selected by id."""
    body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
    return "sha256:" + hashlib.sha256(body).hexdigest()[:16]


@dataclass
class Selection:
    ids: list[str] = field(default_factory=list)
    group: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    def matches(self, entry: ErrorEntry) -> bool:
        if self.ids and entry.id not in self.ids:
            return False
        if self.group and entry.group != self.group:
            return False
        last = datetime.fromisoformat(entry.last_failure) if entry.last_failure else None
        if self.since and (last is None or last < self.since):
            return False
        if self.until and (last is None or last > self.until):
            return False
        return True


class ErrorQueue:
    def __init__(self, bus: Bus):
        self.bus = bus
        self.queue_name = bus.topology.queue_name("erreurs")

    def _take_all(self, channel) -> list[ErrorEntry]:
        queue = next(q for q in self.bus.topology.queues() if q.name == self.queue_name)
        bound, entries = queue(channel), []
        by_filing: dict[str, ErrorEntry] = {}
        while (message := bound.get(no_ack=False, accept=None)) is not None:
            entry = _entry(message)
            first = by_filing.get(entry.filing_id) if entry.filing_id else None
            if first is not None:
                first.copies.append(message)
                continue
            if entry.filing_id:
                by_filing[entry.filing_id] = entry
            entries.append(entry)
        return entries

    def browse(self, selection: Selection, act: Callable[[ErrorEntry], None] | None = None) -> list[ErrorEntry]:
        """The selected entries; `act` is called on each, and those it handled leave the queue."""
        channel = self.bus.consuming.channel()
        try:
            selected = [e for e in self._take_all(channel) if selection.matches(e)]
            if act is not None:
                for entry in selected:
                    act(entry)
                    entry.message.ack()
                    for copy in entry.copies:
                        copy.ack()
            return selected
        finally:
            channel.close()  # everything not acked goes back to the queue, in order

    def replay(self, entry: ErrorEntry) -> None:
        """Back to the queue it failed in, with the history of its failures."""
        headers = {k: v for k, v in entry.headers.items() if not k.startswith(PREFIX)}
        headers.pop("x-guichet-original-content-type", None)
        headers.pop(FILING_ID, None)  # a new failure after the replay is a new filing
        past = {
            k: v
            for k, v in entry.summary().items()
            if k in ("reason", "exception", "error", "queue", "attempts", "first_failure", "last_failure")
        }
        headers[HISTORY] = json.dumps(entry.history + [past])
        headers[REPLAYS] = entry.replays + 1
        content_type = entry.headers.get("x-guichet-original-content-type") or "application/json"
        self.bus.publish(
            entry.body,
            entry.routing_key or "",
            headers,
            entry.id,
            content_type=content_type,
            exchange=self.bus.topology.replay_exchange,
        )
