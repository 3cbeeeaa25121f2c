"""Broker accounts: one RabbitMQ user per agency and per operator role, with least privilege.

`desired_state` computes what each account may do, `apply` makes the broker match it and `verify`
lists the differences, through the management HTTP API (standard library only):
- no account may configure anything: `apply` declares the whole topology as the administrator;
  passive declares, all a service needs at start-up, take no permission;
- an agency writes to the flow, wait and error exchanges and reads its own queue only; topic
  permissions on the flow exchange let it publish only routing keys `<recipient>.<itself>.<name>`;
- the late relay republishes other agencies' transmissions: only the OFII (the référent, to whom
  the alert goes anyway) does, so only its account reads `<ns>.retard` and may write agency-to-agency
  keys. A regex cannot tell a relayed message from a forged one; signatures (guichet.trust) can.
Topic permissions on the wait exchanges only take effect if those are topic exchanges: RabbitMQ
checks routing keys on topic exchanges only.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import get_args
from urllib.parse import quote, urlsplit

from guichet.bus import Bus
from guichet_tools.broker_management import BrokerAdminError, Management, management_url  # noqa: F401
from guichet.topology import DELIVERY_LIMIT, Topology
from schemas.base import AGENCIES, REGISTRY, Party
from schemas.competences_talents import DemandeCompetencesTalents
from services.parties import PARTIES

OPERATOR, PORTAL = "operateur", "employeur"
ROLES = (*AGENCIES, OPERATOR, PORTAL)
NOTHING = "^$"
HASHES = {"rabbit_password_hashing_sha256": hashlib.sha256, "rabbit_password_hashing_sha512": hashlib.sha512,
          "rabbit_password_hashing_md5": hashlib.md5}


@dataclass
class State:
    vhost: str
    namespace: str
    users: dict[str, dict] = field(default_factory=dict)          # name -> role, tags, password
    permissions: dict[str, dict] = field(default_factory=dict)    # name -> configure, write, read
    topic_permissions: dict[str, dict] = field(default_factory=dict)  # name -> exchange -> write, read
    policies: dict[str, dict] = field(default_factory=dict)
    queue_type: str = "classic"


def _one_of(*names: str) -> str:
    return "^(" + "|".join(re.escape(n) for n in names) + ")$"


def _keys(recipients, senders) -> str:
    """Routing keys `<recipient>.<sender>.<name>`, i.e. message types `<sender>.<name>`."""
    return r"^(" + "|".join(recipients) + r")\.(" + "|".join(senders) + r")\."


def _recipients(sender: str) -> list[str]:
    """The agencies a party's message types go to, read from the message classes."""
    return sorted({cls.RECIPIENT for cls in REGISTRY.values() if cls.SENDER == sender and cls.RECIPIENT in AGENCIES})


def desired_state(vhost: str, namespace: str, passwords: dict[str, str], user_prefix: str = "",
                  simulated_actors: bool = True, queue_type: str = "classic") -> State:
    topo = Topology(PARTIES, namespace=namespace, queue_type=queue_type)
    flux, errors = topo.flow.name, topo.errors_exchange.name
    waits = [topo.wait_exchange(s).name for s in topo.retry_delays]
    parties, outside = get_args(Party), PARTIES.outside["usagers"]
    state = State(vhost, namespace, queue_type=queue_type)

    def account(role, tags, configure, write, read, topics):
        name = f"{user_prefix}{role}"
        state.users[name] = {"role": role, "tags": tags, "password": passwords.get(name)}
        state.permissions[name] = {"configure": configure, "write": write, "read": read}
        state.topic_permissions[name] = topics

    for agency in AGENCIES:
        own = rf"^{agency}\."
        flux_keys = [_keys(parties, [agency])]
        reads = [topo.queue_name(agency)]
        # A failed message keeps the key it was delivered with: addressed to this agency, or, for
        # the relay, to whichever agency's queue dead-lettered it.
        error_keys = own
        if agency == PARTIES.relay:
            error_keys = r"^(" + "|".join(AGENCIES) + r")\."
            flux_keys.append(_keys(AGENCIES, AGENCIES))   # late transmissions relayed as they were sent
            reads.append(topo.queue_name("retard"))
            if simulated_actors:                           # its simulated employer and worker act on the bus
                flux_keys.append(_keys([PARTIES.relay], outside))
        # A retry goes to a wait exchange with the routing key it was delivered with: addressed to itself.
        topics = {flux: {"write": "|".join(flux_keys), "read": own},
                  errors: {"write": error_keys, "read": NOTHING},
                  **{w: {"write": own, "read": NOTHING} for w in waits}}
        account(agency, "", NOTHING, _one_of(flux, errors, *waits), _one_of(*reads), topics)
    # Operators list, replay (any failed message, with its original routing key) and purge the error queue,
    # and archive failed messages instead of purging them: the operations view declares the archive
    # (an exchange and a queue of one name), moves messages there and restores them to the error exchange.
    archive = topo.queue_name("erreurs.archive")
    account(OPERATOR, "monitoring", _one_of(archive), _one_of(flux, errors, archive),
            _one_of(topo.queue_name("erreurs"), archive), {flux: {"write": ".*", "read": NOTHING}})
    # The employers' portal files the employers' messages (with the DT-OFII, and since 2021 online with
    # the platform) and the worker's own application at the consulate (II.A.2); it reads what the bus
    # sends to people. The worker's presence at a convocation is the OFII's reception's to record.
    application = DemandeCompetencesTalents
    portal_keys = "|".join([_keys(_recipients(PORTAL), [PORTAL]), _keys([application.RECIPIENT], [application.SENDER])])
    account(PORTAL, "", NOTHING, _one_of(flux), _one_of(topo.queue_name("usagers")),
            {flux: {"write": portal_keys, "read": "^(" + "|".join(outside) + r")\."}})

    # The same dead-lettering and TTLs as the queue arguments, for deployments that manage them by policy.
    # On quorum queues (cluster mode) dead-lettering is at least once, which needs reject-publish.
    quorum = {"dead-letter-strategy": "at-least-once", "overflow": "reject-publish"} if queue_type == "quorum" else {}
    for seconds in topo.retry_delays:
        name = topo.wait_queue(seconds).name
        state.policies[name] = {"pattern": _one_of(name), "apply-to": "queues", "priority": 0,
                                "definition": {"message-ttl": int(seconds * 1000), "dead-letter-exchange": flux,
                                               **quorum}}
    agences = {"dead-letter-exchange": topo.late_exchange.name, **quorum}
    if queue_type == "quorum":
        agences["delivery-limit"] = DELIVERY_LIMIT
    state.policies[f"{namespace}.agences"] = {
        "pattern": _one_of(*(topo.queue_name(a) for a in AGENCIES)), "apply-to": "queues", "priority": 0,
        "definition": agences}
    return state


def load_passwords(path: Path, users, create: bool = True) -> dict[str, str]:
    """The credentials file's passwords, generating (and saving, mode 0600) those it lacks: a second
    `setup` reuses them, so it changes nothing."""
    path = Path(path)
    known = json.loads(path.read_text()) if path.exists() else {}
    missing = [u for u in users if u not in known]
    if create and (missing or not path.exists()):
        known |= {u: secrets.token_urlsafe(24) for u in missing}
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(known, f, indent=2)
        os.replace(tmp, path)
        os.chmod(path, 0o600)
    return known


def service_url(amqp_url: str, user: str, password: str, vhost: str) -> str:
    """The URL a service connects with: the administrator's host, its own account and the vhost."""
    u = urlsplit(amqp_url)
    port = u.port or (5671 if u.scheme == "amqps" else 5672)
    return f"{u.scheme}://{quote(user, safe='')}:{quote(password, safe='')}@{u.hostname}:{port}/{quote(vhost, safe='')}"


def _tags(value) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return sorted(t.strip() for t in items if t.strip())


def _password_matches(found: dict, password: str) -> bool:
    """RabbitMQ stores base64(salt[4] + hash(salt + password)): checked here without logging in."""
    algorithm = HASHES.get(found.get("hashing_algorithm"))
    raw = base64.b64decode(found.get("password_hash") or "")
    return algorithm is not None and len(raw) > 4 and secrets.compare_digest(
        raw[4:], algorithm(raw[:4] + password.encode()).digest())


def _topics(mgmt: Management, vhost: str, user: str) -> dict[str, dict]:
    return {t["exchange"]: {"write": t["write"], "read": t["read"]}
            for t in mgmt.get("topic-permissions", vhost, user) or []}


def _policy(found: dict | None) -> dict | None:
    return found and {k: found.get(k) for k in ("pattern", "apply-to", "priority", "definition")}


def _differences(label: str, found: dict, want: dict) -> list[str]:
    return [f"{label} {k}: {found.get(k)!r} instead of {v!r}" for k, v in want.items() if found.get(k) != v]


def _topology_drift(mgmt: Management, state: State) -> list[str]:
    topo = Topology(PARTIES, namespace=state.namespace, queue_type=state.queue_type)
    exchanges = {e["name"]: e["type"] for e in mgmt.get("exchanges", state.vhost, query="?columns=name,type") or []}
    queues = {q["name"] for q in mgmt.get("queues", state.vhost, query="?columns=name") or []}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in mgmt.get("bindings", state.vhost) or []}
    drift = [f"exchange {e.name} missing" if e.name not in exchanges else f"exchange {e.name} is "
             f"{exchanges[e.name]} instead of {e.type} (delete it, run setup)" for e in topo.exchanges()
             if exchanges.get(e.name) != e.type]
    for q in topo.queues():
        drift += [f"queue {q.name} missing"] if q.name not in queues else [
            f"binding {q.name} <- {b.exchange.name} {b.routing_key!r} missing" for b in q.bindings
            if (b.exchange.name, q.name, b.routing_key) not in bindings]
    return drift


def verify(admin_http_url: str, state: State) -> list[str]:
    """Human-readable differences between the broker and `state`; empty when there are none."""
    mgmt, vhost, drift = Management(admin_http_url), state.vhost, []
    if mgmt.get("vhosts", vhost) is None:
        return [f"vhost {vhost!r} missing"]
    for name, want in state.users.items():
        found = mgmt.get("users", name)
        if found is None:
            drift.append(f"user {name} missing")
        elif _tags(found.get("tags")) != _tags(want["tags"]):
            drift.append(f"user {name}: tags {_tags(found.get('tags'))} instead of {_tags(want['tags'])}")
        if found and want["password"] is not None and not _password_matches(found, want["password"]):
            drift.append(f"user {name}: password differs from the credentials file")
        perm = mgmt.get("permissions", vhost, name)
        drift += ([f"permission {name} on vhost {vhost!r} missing"] if perm is None
                  else _differences(f"permission {name}", perm, state.permissions[name]))
        topics, wanted = _topics(mgmt, vhost, name), state.topic_permissions[name]
        for exchange, want_t in wanted.items():
            drift += ([f"topic permission {name} on {exchange} missing"] if exchange not in topics
                      else _differences(f"topic permission {name} on {exchange}", topics[exchange], want_t))
        drift += [f"topic permission {name} on {e}: extra" for e in sorted(topics.keys() - wanted.keys())]
    for perm in mgmt.get("vhosts", vhost, "permissions") or []:  # the administrator's own is expected
        if perm["user"] not in state.users and perm["user"] != mgmt.username:
            drift.append(f"extra permission: user {perm['user']} on vhost {vhost!r} "
                         f"(configure {perm['configure']!r}, write {perm['write']!r}, read {perm['read']!r})")
    for name, want in state.policies.items():
        found = _policy(mgmt.get("policies", vhost, name))
        drift += [f"policy {name} missing"] if found is None else _differences(f"policy {name}", found, want)
    return drift + _topology_drift(mgmt, state)


def apply(admin_http_url: str, state: State, amqp_url: str | None = None) -> dict:
    """Make the broker match `state`, touching only what differs; `amqp_url` (the administrator's)
    also declares the topology in the vhost. Returns each user's status and the changes made."""
    mgmt, vhost, changes, statuses = Management(admin_http_url), state.vhost, [], {}
    if mgmt.get("vhosts", vhost) is None:
        mgmt.put({"description": f"guichet unique ({state.namespace})"}, "vhosts", vhost)  # grants its creator
        changes.append(f"created vhost {vhost!r}")
    for name, want in state.users.items():
        found = mgmt.get("users", name)
        stale = found is not None and (_tags(found.get("tags")) != _tags(want["tags"])
                                       or not _password_matches(found, want["password"]))
        statuses[name] = "created" if found is None else "updated" if stale else "unchanged"
        if found is None or stale:
            changes.append(f"{statuses[name]} user {name}")
            mgmt.put({"password": want["password"], "tags": ",".join(_tags(want["tags"]))}, "users", name)
        if (mgmt.get("permissions", vhost, name) or {}) != {"user": name, "vhost": vhost, **state.permissions[name]}:
            mgmt.put(state.permissions[name], "permissions", vhost, name)
            changes.append(f"set permissions of {name}")
        topics, wanted = _topics(mgmt, vhost, name), state.topic_permissions[name]
        if topics.keys() - wanted.keys():
            # The API deletes a user's topic permissions all at once: then every wanted one is set again.
            mgmt.delete("topic-permissions", vhost, name)
            topics = {}
        for exchange, want_t in wanted.items():
            if topics.get(exchange) != want_t:
                mgmt.put({"exchange": exchange, **want_t}, "topic-permissions", vhost, name)
                changes.append(f"set topic permission of {name} on {exchange}")
    for name, want in state.policies.items():
        if _policy(mgmt.get("policies", vhost, name)) != want:
            mgmt.put(want, "policies", vhost, name)
            changes.append(f"set policy {name}")
    if amqp_url is not None:  # the administrator declares everything: no account needs configure rights
        bus = Bus(urlsplit(amqp_url)._replace(path="/" + quote(vhost, safe="")).geturl(),
                  Topology(PARTIES, namespace=state.namespace, queue_type=state.queue_type))
        try:
            bus.declare()
        finally:
            bus.close()
    return {"users": statuses, "changes": changes}
