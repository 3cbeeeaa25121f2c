"""The policies `guichet broker setup` sets on the queues, and the limits it sets on the accounts.

RabbitMQ applies one policy to a queue, the one of highest priority whose pattern matches: the
dead-letter, TTL and delivery-limit values and the length limits of a queue are one definition.

Every queue is bounded by `max-length` messages and `max-length-bytes`, whichever comes first
(`Limits`, flags of `broker setup`), and none but the refusal queues drops what it holds (no
`drop-head`, which would throw away the oldest message of a dossier). What a full queue does:
- the agency queues: written by the agencies' and the portal's publishes, by the wait queues'
  dead-lettering and by the relay and the replay. A cluster (quorum queues) uses `reject-publish`:
  a publisher is nacked and sends again from its outbox, and a retry dead-lettered at least once
  stays in its wait queue until there is room. On one broker (classic queues) dead-lettering is at
  most once, and `reject-publish` would drop a retry coming back from a wait queue; so classic
  agency queues use `reject-publish-dlx`: the publisher is nacked all the same, and what the queue
  refuses is dead-lettered to the late queue, whose relay files it in the error queue (reason
  `maxlen`), from where an operator replays it. A publisher's refused copy is filed too: a replay of
  it is a message its receiver has already processed, and changes nothing;
- the wait queues, the error queue, the archive, the outside parties' inboxes (`usagers`,
  `ministere`) and `non_routes`: `reject-publish`. They are written by publishes with confirms
  (the alternate exchange routes within the publish): the publisher is nacked and keeps the
  message (a retry stays unacked in its agency queue, a filing refused is dead-lettered to the late
  queue, an outbox row stays unsent);
- the supervision queue: `reject-publish` too. An agency's audit copy refused there is sent again
  (its cursor moves only on the broker's confirm); a refusal notice its copy could not reach is
  still in the party's refusal queue and the refused message in the error queue;
- the refusal queues (`<party>.refusals`): notices, not messages of a dossier (the refused message
  is in the error queue). `drop-head` at `REFUSAL_QUEUE_LENGTH` notices (or the length limit when
  lower), each kept `REFUSAL_TTL_SECONDS`: the same bound as their declared arguments, so that a
  party that never reads its notices neither fills the broker nor stops an agency's publishes;
- the late queue: written by dead-lettering only. On a cluster it is bounded with `reject-publish`,
  the agency queue keeping what it refuses (at-least-once dead-lettering). On one broker it is not
  bounded: at-most-once dead-lettering would drop a late transmission, or a delivery that could not
  be filed, into a full late queue. Its relay empties it; an alert fires when it does not
  (deploy/prometheus/alerts.yml).

Each account is limited to `max-connections` and `max-channels` (across its connections): a service
process holds two connections and a few channels at a time, so the defaults leave room for several
processes of one agency, and a faulty or hostile connector cannot take every connection of the broker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from guichet.topology import DELIVERY_LIMIT, REFUSAL_QUEUE_LENGTH, REFUSAL_TTL_SECONDS, Topology


@dataclass(frozen=True)
class Limits:
    queue_length: int = 1_000_000
    queue_bytes: int = 1024**3
    connections: int = 32
    channels: int = 256

    def account(self) -> dict[str, int]:
        return {"max-connections": self.connections, "max-channels": self.channels}


def _one_of(*names: str) -> str:
    return "^(" + "|".join(re.escape(n) for n in names) + ")$"


def policies(topo: Topology, limits: Limits = Limits()) -> dict[str, dict]:
    quorum = topo.queue_type == "quorum"
    bounded = {"max-length": limits.queue_length, "max-length-bytes": limits.queue_bytes, "overflow": "reject-publish"}
    # On quorum queues (cluster mode) dead-lettering is at least once, which needs reject-publish.
    at_least_once = {"dead-letter-strategy": "at-least-once"} if quorum else {}

    def policy(pattern_names, definition) -> dict:
        return {"pattern": _one_of(*pattern_names), "apply-to": "queues", "priority": 0, "definition": definition}

    made = {}
    for seconds in topo.retry_delays:
        name = topo.wait_queue(seconds).name
        made[name] = policy(
            [name],
            {"message-ttl": int(seconds * 1000), "dead-letter-exchange": topo.flow.name, **at_least_once, **bounded},
        )
    agencies = {"dead-letter-exchange": topo.late_exchange.name, **at_least_once, **bounded}
    if quorum:
        agencies["delivery-limit"] = DELIVERY_LIMIT
    else:
        agencies["overflow"] = "reject-publish-dlx"
    made[f"{topo.namespace}.agences"] = policy([topo.queue_name(a) for a in topo.parties.agencies], agencies)
    made[f"{topo.namespace}.erreurs"] = policy(
        [topo.queue_name("erreurs"), topo.queue_name("erreurs.archive")], dict(bounded)
    )
    others = [*topo.parties.outside, "non_routes", "supervision", *(["retard"] if quorum else [])]
    made[f"{topo.namespace}.autres"] = policy([topo.queue_name(o) for o in others], dict(bounded))
    made[f"{topo.namespace}.refus"] = policy(
        [topo.refusal_queue_name(p) for p in topo.parties.notified],
        {
            "max-length": min(REFUSAL_QUEUE_LENGTH, limits.queue_length),
            "max-length-bytes": limits.queue_bytes,
            "overflow": "drop-head",
            "message-ttl": REFUSAL_TTL_SECONDS * 1000,
        },
    )
    return made
