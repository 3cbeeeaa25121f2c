"""What each broker account's permissions name, checked against explicit tables (no broker).

RabbitMQ searches an account's configure, write and read regexes in queue and exchange names alike,
and its topic regexes in routing keys: here every regex is searched in every name of a namespace and
in the routing key of every message type, as RabbitMQ does (`re.search`, not `re.match`)."""

from __future__ import annotations

import re

import pytest

from guichet.topology import Topology
from guichet_operations import broker_admin
from guichet_operations.broker_policies import Limits, policies
from schemas.base import AGENCIES
from schemas.catalogue import message_registry
from services.parties import PARTIES

MESSAGES = message_registry()

NS = "ns"
WAITS = {"vers.attente.1s", "vers.attente.10s", "vers.attente.60s"}
QUEUES = {
    *AGENCIES,
    "usagers",
    "ministere",
    "erreurs",
    "erreurs.archive",
    "non_routes",
    "retard",
    "attente.1s",
    "attente.10s",
    "attente.60s",
    *(f"{party}.refusals" for party in (*AGENCIES, "employeur")),
    "supervision",
}
EXCHANGES = {
    "flux",
    "rejeu",
    "refusals",
    "vers.non_routes",
    "vers.erreurs",
    "vers.erreurs.archive",
    "vers.retard",
    "vers.supervision",
    *WAITS,
}
# The broker's own exchanges: publishing on the default exchange is writing on `amq.default`.
BROKER_OWN = {"amq.default", "amq.direct", "amq.fanout", "amq.topic", "amq.headers", "amq.match", "amq.rabbitmq.trace"}
AGENCY_WRITES = {"flux", "vers.erreurs", "refusals", "vers.supervision", *WAITS}
EXPECTED = {
    "ofii": {"configure": set(), "write": AGENCY_WRITES, "read": {"ofii", "ofii.refusals", "retard"}},
    "smoe": {"configure": set(), "write": AGENCY_WRITES, "read": {"smoe", "smoe.refusals"}},
    "consulat": {"configure": set(), "write": AGENCY_WRITES, "read": {"consulat", "consulat.refusals"}},
    "prefecture": {"configure": set(), "write": AGENCY_WRITES, "read": {"prefecture", "prefecture.refusals"}},
    "operateur": {
        "configure": set(),
        "write": {"rejeu", "vers.erreurs", "vers.erreurs.archive"},
        "read": {"erreurs", "erreurs.archive"},
    },
    "employeur": {"configure": set(), "write": {"flux"}, "read": {"usagers", "employeur.refusals"}},
    # Takes the audit copies, the refusal notices and the error queue into its store; replays from it.
    "supervision": {"configure": set(), "write": {"rejeu"}, "read": {"supervision", "erreurs"}},
}
PEOPLE = ("employeur", "travailleur")


def short(name: str) -> str:
    return name[len(NS) + 1 :] if name.startswith(NS + ".") else name


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_no_exchange_shares_a_name_with_a_queue(queue_type):
    topo = Topology(PARTIES, namespace=NS, queue_type=queue_type)
    queues, exchanges = {short(q.name) for q in topo.queues()}, {short(e.name) for e in topo.exchanges()}
    assert queues == QUEUES and exchanges == EXCHANGES
    assert not queues & exchanges


def test_each_permission_names_exactly_the_queues_and_exchanges_of_its_table():
    state = broker_admin.desired_state("v", NS, {})
    names = {f"{NS}.{n}" for n in QUEUES | EXCHANGES} | BROKER_OWN
    found = {
        user: {kind: {short(n) for n in names if re.search(regex, n)} for kind, regex in perms.items()}
        for user, perms in state.permissions.items()
    }
    assert found == EXPECTED


def test_no_account_may_bind_anything():
    """A binding needs write on the queue and read on the exchange: no account has both."""
    for role, perms in EXPECTED.items():
        assert not perms["write"] & QUEUES, role
        assert not perms["read"] & EXCHANGES, role


def test_no_account_has_a_management_tag():
    assert {u["tags"] for u in broker_admin.desired_state("v", NS, {}).users.values()} == {""}


def sends(role: str, cls, simulated_actors: bool) -> bool:
    """The law's table of who publishes what on the flow exchange."""
    if cls.TYPE == "travailleur.presentation_convocation":
        return role == "ofii"  # the DT-OFII's reception records the worker's presence (II.D)
    if role == "employeur":
        return cls.SENDER in PEOPLE  # the portal speaks for the employer and the worker
    if role == "ofii":
        return (
            cls.SENDER == "ofii"
            or (cls.SENDER in AGENCIES and cls.RECIPIENT in AGENCIES)  # the late relay
            or (simulated_actors and cls.SENDER in PEOPLE and cls.RECIPIENT == "ofii")
        )
    return cls.SENDER == role  # an agency; the operator sends nothing


@pytest.mark.parametrize("simulated_actors", [True, False])
def test_each_account_may_publish_the_key_of_a_type_only_when_its_party_sends_it(simulated_actors):
    state = broker_admin.desired_state("v", NS, {}, simulated_actors=simulated_actors)
    for role in broker_admin.ROLES:
        write = state.topic_permissions[role][f"{NS}.flux"]["write"]
        for type_, cls in MESSAGES.items():
            key = f"{cls.RECIPIENT}.{type_}"
            assert bool(re.search(write, key)) is sends(role, cls, simulated_actors), (role, key)


@pytest.mark.parametrize(
    "role, key",
    [
        ("ofii", "consulat.smoe.decision_visa"),  # no such type: not a key of the registry
        ("ofii", "consulat.ofii.transmission_consulat.x"),  # a key of the registry with something after
        ("ofii", "x.consulat.ofii.transmission_consulat"),
        ("smoe", "ofii.smoe.anything"),
        ("employeur", "ofii.employeur."),
    ],
)
def test_a_key_that_is_not_exactly_one_of_the_registry_is_refused(role, key):
    write = broker_admin.desired_state("v", NS, {}).topic_permissions[role][f"{NS}.flux"]["write"]
    assert not re.search(write, key)


def test_failures_and_retries_are_filed_under_keys_addressed_to_the_agency_itself():
    topics = broker_admin.desired_state("v", NS, {}).topic_permissions
    assert re.search(topics["smoe"][f"{NS}.vers.erreurs"]["write"], "smoe.quarantaine")
    assert not re.search(topics["smoe"][f"{NS}.vers.erreurs"]["write"], "ofii.smoe.decision_autorisation_travail")
    assert re.search(topics["ofii"][f"{NS}.vers.erreurs"]["write"], "smoe.quarantaine"), "the relay files for all"
    for wait in WAITS:
        assert re.search(topics["smoe"][f"{NS}.{wait}"]["write"], "smoe.ofii.transmission_smoe")
        assert not re.search(topics["smoe"][f"{NS}.{wait}"]["write"], "consulat.ofii.transmission_consulat")


# What a full queue does, queue by queue (guichet_operations/broker_policies.py): never drop-head,
# but for the refusal notices (the refused messages are in the error queue).
NOTICES = {f"{p}.refusals": "drop-head" for p in (*AGENCIES, "employeur")}
OVERFLOW = {
    "classic": {**{a: "reject-publish-dlx" for a in AGENCIES}, "retard": None, **NOTICES},
    "quorum": {**{a: "reject-publish" for a in AGENCIES}, "retard": "reject-publish", **NOTICES},
}


@pytest.mark.parametrize("queue_type", ["classic", "quorum"])
def test_every_queue_but_the_classic_late_queue_is_bounded_by_one_policy_and_drops_nothing(queue_type):
    topo = Topology(PARTIES, namespace=NS, queue_type=queue_type)
    made = policies(topo, Limits(queue_length=7, queue_bytes=9))
    for queue in topo.queues():
        governing = [p["definition"] for p in made.values() if re.search(p["pattern"], queue.name)]
        expected = OVERFLOW[queue_type].get(short(queue.name), "reject-publish")
        if expected is None:
            assert governing == [], "dead-lettered at most once into it: a limit would drop"
            continue
        [definition] = governing
        assert (
            definition["overflow"] == expected and definition["max-length"] == 7 and definition["max-length-bytes"] == 9
        )
    agences = made[f"{NS}.agences"]["definition"]
    assert agences["dead-letter-exchange"] == topo.late_exchange.name, "merged with the dead-lettering"
    if queue_type == "quorum":
        assert agences["delivery-limit"] and agences["dead-letter-strategy"] == "at-least-once"


def test_an_agency_notifies_of_refusals_only_the_parties_whose_messages_it_receives():
    """Each refusal queue is bound by its party's name on the refusal exchange: an agency's topic
    permission there names the accounts that publish to it, itself (its retries) and the relay."""
    state = broker_admin.desired_state("v", NS, {})
    for agency in AGENCIES:
        write = state.topic_permissions[agency][f"{NS}.refusals"]["write"]
        role = broker_admin.broker_permissions.account_role
        senders = {role(t) for t, c in MESSAGES.items() if c.RECIPIENT == agency}
        expected = senders | {agency, PARTIES.relay}
        for party in (*AGENCIES, "employeur", "operateur", "travailleur", "ministere"):
            assert bool(re.search(write, party)) is (party in expected), (agency, party)
        assert not re.search(write, f"{agency}.x") and not re.search(write, "x" + agency)
