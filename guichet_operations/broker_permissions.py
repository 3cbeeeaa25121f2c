"""What each broker account may do on the bus, read from the message registry and the topology.

RabbitMQ checks three regexes per account and vhost (configure, write, read), matched against
queue and exchange names alike, and, on topic exchanges, a regex per exchange matched against the
routing key of each publish. Both are searched, not matched: every regex here is anchored.

- An agency publishes on the flow exchange exactly the routing keys `<recipient>.<type>` of the
  types it sends, and nothing else: its alerts, reminders and back-office acts included, since
  their sender is the agency itself, and its signed receipts (`<sender>.<agency>.accuse_reception`)
  to the administrations whose messages it receives, and the copies of its journal's anchors to
  the auditor (`ministere.<agency>.ancre_journal`). It retries under keys addressed to itself (the wait
  exchanges) and files failures under keys addressed to itself (the error exchange), among them
  `<agency>.quarantaine` for a delivery that was not. It reads its own queue and its own refusal
  queue only. It sends refusal notices (guichet/refusals.py) under the names of the parties whose
  messages it may receive (their accounts publish to it, itself for its own retries, the relay for
  what it carries on), and no other: a hostile agency cannot flood the notices of a party it never
  hears from.
- The DT-OFII, référent of the deadline alerts, relays the late queue: its account alone reads it,
  republishes the transmissions between agencies under their exact keys (signatures tell a relayed
  message from a forged one, guichet/admission.py) and files under any agency's key what it cannot
  relay. With simulated actors on, it also plays the employer's and the worker's acts addressed to
  it.
- The employers' portal speaks for the employer and the worker (services/parties.py): exactly the
  keys of their types, and it reads their inbox and its refusal queue.
- The operator reads the error queue and the archive, moves messages to the archive, files them
  back in the error exchange, and replays them through the replay exchange, which reaches the
  agency queues only. It may not publish on the flow exchange, configure anything, or bind
  anything: a binding needs write on the queue and read on the exchange, and it has neither
  (the exchanges and the queues have distinct names, guichet/topology.py).
- Each agency ships its audit copies on the supervision exchange under its own name only, so a
  copy's routing key names the agency whose journal it is. The supervision service reads the
  supervision queue (audit copies and refusal notices) and the error queue, which it ingests into
  its store, and replays from there through the replay exchange as the operator does; it
  publishes nothing else and reads no agency's queue.
- Nobody configures anything: `guichet broker setup` declares the topology as the administrator.
- No account has a management tag: the tools speak AMQP only, and a tag (even `monitoring`) opens
  the management API, where `monitoring` lists every vhost of the broker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from guichet import anchor_copies
from guichet.delivery_receipts import receipt_class
from guichet.topology import Topology
from schemas.base import AGENCIES
from schemas.catalogue import message_registry
from schemas.remise import PresentationConvocation
from services.parties import PARTIES

OPERATOR, PORTAL, SUPERVISION = "operateur", "employeur", "supervision"
ROLES = (*AGENCIES, OPERATOR, PORTAL, SUPERVISION)
NOTHING = "^$"
TAGS = ""
# An act of one party that another's account records on the bus: the worker's presence at a
# convocation is what the DT-OFII's reception sees and records (II.D), not something the employers'
# portal may claim for the worker.
RECORDED_BY = {PresentationConvocation.TYPE: "ofii"}


@dataclass
class Account:
    role: str
    configure: str
    write: str
    read: str
    topics: dict[str, dict] = field(default_factory=dict)  # exchange -> {write, read}
    tags: str = TAGS

    @property
    def permissions(self) -> dict[str, str]:
        return {"configure": self.configure, "write": self.write, "read": self.read}


def one_of(*names: str) -> str:
    """Exactly these names (or keys), nothing before or after."""
    return "^(" + "|".join(re.escape(n) for n in sorted(set(names))) + ")$" if names else NOTHING


def addressed_to(*parties: str) -> str:
    """Routing keys addressed to one of these parties: `<party>.` and anything after."""
    return "^(" + "|".join(re.escape(p) for p in sorted(set(parties))) + r")\."


# The message types the accounts are granted routing keys for: the whole contract.
MESSAGES = message_registry()


def routing_key(cls) -> str:
    return f"{cls.RECIPIENT}.{cls.TYPE}"


def account_role(type_: str) -> str:
    """The account that publishes a message type: its sender's, unless another records it."""
    cls = MESSAGES[type_]
    return RECORDED_BY.get(type_, PARTIES.accounts.get(cls.SENDER, cls.SENDER))


def receipt_senders(agency: str) -> list[str]:
    """The administrations whose messages `agency` receives: those it returns signed receipts to."""
    return sorted({c.SENDER for c in MESSAGES.values() if c.RECIPIENT == agency and c.SENDER in AGENCIES} - {agency})


def receipt_key(receiver: str, sender: str) -> str:
    return routing_key(receipt_class(receiver, sender))


def flow_keys(role: str, simulated_actors: bool = True) -> list[str]:
    """Every routing key `role`'s account may publish on the flow exchange."""
    keys = {routing_key(c) for t, c in MESSAGES.items() if account_role(t) == role}
    if role in AGENCIES:  # its signed receipts, to the administrations that send it something
        keys |= {receipt_key(role, sender) for sender in receipt_senders(role)}
        if PARTIES.auditor:  # and the copies of its journal's anchors, to the auditor's inbox
            keys.add(anchor_copies.routing_key(PARTIES.auditor, role))
    if role == PARTIES.relay:
        # Late transmissions relayed as they were sent: between agencies, under their own keys.
        keys |= {routing_key(c) for c in MESSAGES.values() if c.SENDER in AGENCIES and c.RECIPIENT in AGENCIES}
        keys |= {receipt_key(r, s) for r in AGENCIES for s in receipt_senders(r)}
        if simulated_actors:  # its simulated employer and worker act on the bus
            people = PARTIES.outside["usagers"]
            keys |= {routing_key(c) for c in MESSAGES.values() if c.SENDER in people and c.RECIPIENT == role}
    return sorted(keys)


def notified_by(agency: str) -> list[str]:
    """The parties `agency` may send a refusal notice to: whose accounts publish what it receives."""
    senders = {account_role(t) for t, c in MESSAGES.items() if c.RECIPIENT == agency}
    return sorted(senders | {agency, PARTIES.relay})


def accounts(topo: Topology, simulated_actors: bool = True) -> dict[str, Account]:
    """Each role's permissions on the vhost of `topo`."""
    flux, errors, refusals = topo.flow.name, topo.errors_exchange.name, topo.refusals_exchange.name
    audit = topo.supervision_exchange.name
    waits = [topo.wait_exchange(s).name for s in topo.retry_delays]
    made: dict[str, Account] = {}
    for agency in AGENCIES:
        own = addressed_to(agency)
        reads = [topo.queue_name(agency), topo.refusal_queue_name(agency)]
        # A failed message keeps the key it was delivered with: addressed to this agency, or, for
        # the relay, to whichever agency's queue dead-lettered it.
        filed = own
        if agency == PARTIES.relay:
            filed = addressed_to(*AGENCIES)
            reads.append(topo.queue_name("retard"))
        topics = {
            flux: {"write": one_of(*flow_keys(agency, simulated_actors)), "read": own},
            errors: {"write": filed, "read": NOTHING},
            refusals: {"write": one_of(*notified_by(agency)), "read": NOTHING},
            audit: {"write": one_of(agency), "read": NOTHING},
            **{w: {"write": own, "read": NOTHING} for w in waits},
        }
        made[agency] = Account(agency, NOTHING, one_of(flux, errors, refusals, audit, *waits), one_of(*reads), topics)
    # A replay goes back under the key the broker checked at filing, which names an agency; the
    # replay exchange reaches the agency queues only. Restoring from the archive files a message
    # again under the key it had in the error exchange.
    anywhere = {"write": addressed_to(*AGENCIES), "read": NOTHING}
    made[OPERATOR] = Account(
        OPERATOR,
        NOTHING,
        one_of(topo.replay_exchange.name, errors, topo.archive_exchange.name),
        one_of(topo.queue_name("erreurs"), topo.queue_name("erreurs.archive")),
        {topo.replay_exchange.name: anywhere, errors: anywhere, flux: {"write": NOTHING, "read": NOTHING}},
    )
    made[SUPERVISION] = Account(
        SUPERVISION,
        NOTHING,
        one_of(topo.replay_exchange.name),
        one_of(topo.queue_name("supervision"), topo.queue_name("erreurs")),
        {topo.replay_exchange.name: anywhere, flux: {"write": NOTHING, "read": NOTHING}},
    )
    people = PARTIES.outside["usagers"]
    made[PORTAL] = Account(
        PORTAL,
        NOTHING,
        one_of(flux),
        one_of(topo.queue_name("usagers"), topo.refusal_queue_name(PORTAL)),
        {flux: {"write": one_of(*flow_keys(PORTAL)), "read": addressed_to(*people)}},
    )
    return made
