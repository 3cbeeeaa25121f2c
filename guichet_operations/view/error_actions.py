"""The error queue as the operations view shows it and acts on it, through the operator's account.

Listing takes nothing away (guichet_operations/error_queue.py). Replay sends messages back to the queue
they failed in. Archive does not purge: it moves messages to the queue `<ns>.erreurs.archive`,
through the exchange `<ns>.vers.erreurs.archive` (both part of the topology, declared by `guichet
broker setup` as the administrator, so that the operator's account needs no right to configure
or bind anything), where they are kept with the routing key they had, and restore files them in
the error queue again under that key. Each action handles at most `limit`
messages. Bodies and headers are shown with personal data redacted, as logs are.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from kombu import Queue

from guichet.bus import Bus
from guichet.privacy import personal_data, redact_personal_data, scrub, values_from_body
from guichet_operations.error_queue import ErrorEntry, ErrorQueue, Selection, _entry

ARCHIVED_KEY = "x-guichet-archived-routing-key"
ARCHIVED_AT = "x-guichet-archived-at"


def archive_queue(bus: Bus) -> Queue:
    name = bus.topology.queue_name("erreurs.archive")
    return next(q for q in bus.topology.queues() if q.name == name)


# A failed message may be anything a sender made up: the page shows this much of its body, so that
# a 10 MB envelope cannot make every view of the error queue slow.
SHOWN_BODY_BYTES = 64 * 1024


def redacted_body(body: bytes) -> str:
    """The body as text, personal values and patterns (e-mail, phone) redacted; a body above
    SHOWN_BODY_BYTES is shown cut, as text, with what was left out counted."""
    if len(body) > SHOWN_BODY_BYTES:
        cut = body[:SHOWN_BODY_BYTES].decode("utf-8", "replace")
        return f"{scrub(cut)}\n[... {len(body) - SHOWN_BODY_BYTES} more bytes not shown]"
    text = body.decode("utf-8", "replace")
    with personal_data(values_from_body(body)):
        try:
            return json.dumps(redact_personal_data(None, "", json.loads(text)), ensure_ascii=False, indent=2)
        except (ValueError, RecursionError):  # not JSON, or nested beyond what a parser follows
            return scrub(text)


def view(entry: ErrorEntry) -> dict:
    """Everything about a failed message, with the personal values of its body redacted wherever
    they appear (headers, error, traceback, history), as the log processor does."""
    with personal_data(values_from_body(entry.body)):
        shown = redact_personal_data(
            None, "", entry.summary() | {"headers": dict(entry.headers), "traceback": entry.traceback}
        )
    return shown | {"body": redacted_body(entry.body), "dossier_id": entry.dossier_id or _dossier_in(entry.body)}


def _dossier_in(body: bytes) -> str | None:
    """A message refused before its headers were read (no `dossier_id` header) may still name it."""
    try:
        found = json.loads(body).get("dossier_id") if len(body) <= SHOWN_BODY_BYTES else None
    except (ValueError, AttributeError, RecursionError):
        return None
    return str(found) if found else None


def grouped(entries: list[ErrorEntry]) -> dict[str, list[dict]]:
    """Failures that share a cause together, as `guichet errors list` prints their group."""
    groups: dict[str, list[dict]] = {}
    for entry in entries:
        groups.setdefault(entry.group, []).append(view(entry))
    return dict(sorted(groups.items()))


def listing(bus: Bus) -> list[ErrorEntry]:
    return ErrorQueue(bus).browse(Selection())


def limited(bus: Bus, selection: Selection, limit: int) -> Selection:
    """At most `limit` of the selected messages, by id, oldest first."""
    ids = [e.id for e in ErrorQueue(bus).browse(selection)][:limit]
    return Selection(ids=ids or ["-"])


def replay(bus: Bus, selection: Selection, limit: int) -> list[ErrorEntry]:
    queue = ErrorQueue(bus)
    return queue.browse(limited(bus, selection, limit), queue.replay)


def archive(bus: Bus, selection: Selection, limit: int) -> list[ErrorEntry]:
    exchange = bus.topology.archive_exchange

    def keep(entry: ErrorEntry) -> None:
        headers = dict(entry.headers) | {
            ARCHIVED_KEY: entry.routing_key or "",
            ARCHIVED_AT: datetime.now(UTC).isoformat(),
        }
        content_type = entry.message.content_type or "application/octet-stream"
        bus.publish(entry.body, "", headers, entry.id, exchange=exchange, content_type=content_type)

    return ErrorQueue(bus).browse(limited(bus, selection, limit), keep)


def archived(bus: Bus, ids: list[str] | None = None, act=None) -> list[ErrorEntry]:
    """The archive's messages (all, or those with these ids); `act` on each takes it out."""
    channel = bus.consuming.channel()
    try:
        bound, entries = archive_queue(bus)(channel), []
        while (message := bound.get(no_ack=False, accept=None)) is not None:
            entries.append(_entry(message))
        chosen = [e for e in entries if not ids or e.id in ids]
        if act is not None:
            for entry in chosen:
                act(entry)
                entry.message.ack()
        return chosen
    finally:
        channel.close()  # what was not acted on goes back to the archive, in order


def restore(bus: Bus, ids: list[str], limit: int) -> list[ErrorEntry]:
    """Back to the error queue, under the routing key the message had there."""

    def file_again(entry: ErrorEntry) -> None:
        headers = {k: v for k, v in entry.headers.items() if k not in (ARCHIVED_KEY, ARCHIVED_AT)}
        content_type = entry.message.content_type or "application/octet-stream"
        bus.publish(
            entry.body,
            str(entry.headers.get(ARCHIVED_KEY) or ""),
            headers,
            entry.id,
            exchange=bus.topology.errors_exchange,
            content_type=content_type,
        )

    chosen = [e.id for e in archived(bus, ids)][:limit]
    return archived(bus, chosen or ["-"], file_again)
