"""What a failed delivery carries into the error queue or its next attempt: the headers that count
its attempts and date its failures, a traceback short enough for a header, and the ids read
without trusting the body.

No path acks a delivery before what it filed (a retry in a wait queue, a message in the error
queue, a relayed late transmission) was confirmed by the broker; on quorum queues a confirm means
a majority of the cluster's nodes hold it. A crash between that confirm and the ack redelivers the
original, which is then filed again: RabbitMQ does not deduplicate, and recording the filing in the
register first would lose the message if the crash came before the publish. So each filing carries
a deterministic id (`x-guichet-filing-id`: the same delivery failing the same way gives the same
id) and `guichet errors` shows, replays and purges one message per filing id.
"""

from __future__ import annotations

import hashlib
import json
import traceback
import uuid
from typing import Any, cast

from guichet.agency import Outcome

ATTEMPTS = "x-guichet-attempts"
FIRST_FAILURE = "x-guichet-first-failure"
LAST_ERROR = "x-guichet-last-error"
FILING_ID = "x-guichet-filing-id"
REPLAYS = "x-guichet-replays"
FILINGS = uuid.UUID("0b9d8f5e-6f0c-4c53-9a57-1d2f3c4b5a69")


FAILURE_SUMMARY_LIMIT = 1500


def failure_summary(exc: BaseException, limit: int = FAILURE_SUMMARY_LIMIT) -> str:
    """The traceback's heading and its last whole lines, short enough for a message header.

    The innermost frames say where it failed, so they are kept; the frames
    dropped from the middle are marked, so a reader knows the trace is cut.
    """
    text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
    if len(text) <= limit:
        return text
    heading, _, body = text.partition("\n")
    marker = "  [... earlier frames cut ...]\n"
    room = limit - len(heading) - 1 - len(marker)
    tail = body[-room:] if room > 0 else ""
    if "\n" in tail[:-1]:
        tail = tail[tail.index("\n") + 1 :]
    return f"{heading}\n{marker}{tail}"[:limit]


def without(headers: dict[str, Any], *names: str) -> dict[str, Any]:
    """The headers but those named: what a filing or a retry does not carry on."""
    return {k: v for k, v in (headers or {}).items() if k not in names}


def envelope_field(body: bytes | str, outcome: Outcome, name: str) -> str | None:
    """The dossier or type a failed delivery was about, from its envelope or, failing that, its body."""
    if outcome.envelope is not None:
        return cast("str | None", getattr(outcome.envelope, name))
    try:
        return cast("str | None", json.loads(body).get(name))
    except Exception:  # an undecodable body names nothing
        return None


def filing_id(body: bytes | str, headers: dict[str, Any], message_id: str, queue: str) -> str:
    """The same for every filing of one delivery failing in one queue, different after a replay
    (which counts itself in a header): the error queue's tools collapse filings by it."""
    raw = body if isinstance(body, bytes) else str(body).encode()
    what = message_id or hashlib.sha256(raw).hexdigest()
    return str(uuid.uuid5(FILINGS, f"{what}|{queue}|{int((headers or {}).get(REPLAYS, 0) or 0)}"))


def delivery_message_id(body: bytes | str, headers: dict[str, Any] | None, message_id: str | None = None) -> str:
    """The message's id for headers and logs, read without trusting the body to be valid: the
    delivery's AMQP property first (an undecodable body keeps it), then the headers, then the body."""
    if message_id:
        return str(message_id)
    if headers and headers.get("message_id"):
        return str(headers["message_id"])
    try:
        return str(json.loads(body).get("message_id") or "")
    except Exception:  # an undecodable body has no id to give
        return ""
