"""Broker accounts: one RabbitMQ user per agency and per operator role, with least privilege.

`desired_state` computes what each account may do (guichet_operations/broker_permissions.py), the
policies of the queues and the limits of the accounts (guichet_operations/broker_policies.py); `apply`
makes the broker match it and `verify` lists the differences, through the management HTTP API
(standard library only). No account may configure anything: `apply` declares the whole topology
as the administrator, and passive declares, all a service needs at start-up, take no permission.
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
from urllib.parse import quote, urlsplit

from guichet.bus import Bus
from guichet.settings import TLSSettings
from guichet.topology import Topology
from guichet_operations import broker_permissions, broker_policies
from guichet_operations.broker_management import BrokerAdminError, Management, management_url  # noqa: F401
from guichet_operations.broker_permissions import NOTHING, OPERATOR, PORTAL, ROLES  # noqa: F401
from guichet_operations.broker_policies import Limits
from services.parties import PARTIES

HASHES = {
    "rabbit_password_hashing_sha256": hashlib.sha256,
    "rabbit_password_hashing_sha512": hashlib.sha512,
    "rabbit_password_hashing_md5": hashlib.md5,
}


@dataclass
class State:
    vhost: str
    namespace: str
    users: dict[str, dict] = field(default_factory=dict)  # name -> role, tags, password
    permissions: dict[str, dict] = field(default_factory=dict)  # name -> configure, write, read
    topic_permissions: dict[str, dict] = field(default_factory=dict)  # name -> exchange -> write, read
    policies: dict[str, dict] = field(default_factory=dict)
    queue_type: str = "classic"
    limits: dict[str, dict] = field(default_factory=dict)  # name -> max-connections, max-channels


def desired_state(
    vhost: str,
    namespace: str,
    passwords: dict[str, str],
    user_prefix: str = "",
    simulated_actors: bool = False,
    queue_type: str = "classic",
    limits: Limits | None = None,
) -> State:
    topo = Topology(PARTIES, namespace=namespace, queue_type=queue_type)
    limits = Limits() if limits is None else limits
    state = State(vhost, namespace, queue_type=queue_type, policies=broker_policies.policies(topo, limits))
    for role, account in broker_permissions.accounts(topo, simulated_actors).items():
        name = f"{user_prefix}{role}"
        state.users[name] = {"role": role, "tags": account.tags, "password": passwords.get(name)}
        state.permissions[name] = account.permissions
        state.topic_permissions[name] = account.topics
        state.limits[name] = limits.account()
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


def service_url(amqp_url: str, user: str, password: str | None, vhost: str) -> str:
    """The URL a service connects with: the administrator's host, its own account and the vhost;
    without the password when it is None (the service then takes it from --credentials)."""
    u = urlsplit(amqp_url)
    port = u.port or (5671 if u.scheme == "amqps" else 5672)
    secret = "" if password is None else f":{quote(password, safe='')}"
    return f"{u.scheme}://{quote(user, safe='')}{secret}@{u.hostname}:{port}/{quote(vhost, safe='')}"


def _tags(value) -> list[str]:
    items = value if isinstance(value, list) else str(value or "").split(",")
    return sorted(t.strip() for t in items if t.strip())


def _password_matches(found: dict, password: str) -> bool:
    """RabbitMQ stores base64(salt[4] + hash(salt + password)): checked here without logging in."""
    algorithm = HASHES.get(found.get("hashing_algorithm"))
    raw = base64.b64decode(found.get("password_hash") or "")
    return (
        algorithm is not None
        and len(raw) > 4
        and secrets.compare_digest(raw[4:], algorithm(raw[:4] + password.encode()).digest())
    )


def _topics(mgmt: Management, vhost: str, user: str) -> dict[str, dict]:
    return {
        t["exchange"]: {"write": t["write"], "read": t["read"]}
        for t in mgmt.get("topic-permissions", vhost, user) or []
    }


def _limits(mgmt: Management, user: str) -> dict[str, int]:
    return next((found.get("value") or {} for found in mgmt.get("user-limits", user) or []), {})


def _policy(found: dict | None) -> dict | None:
    return found and {k: found.get(k) for k in ("pattern", "apply-to", "priority", "definition")}


def _differences(label: str, found: dict, want: dict) -> list[str]:
    return [f"{label} {k}: {found.get(k)!r} instead of {v!r}" for k, v in want.items() if found.get(k) != v]


def _topology_drift(mgmt: Management, state: State) -> list[str]:
    topo = Topology(PARTIES, namespace=state.namespace, queue_type=state.queue_type)
    exchanges = {e["name"]: e["type"] for e in mgmt.get("exchanges", state.vhost, query="?columns=name,type") or []}
    queues = {q["name"]: q.get("policy") for q in mgmt.get("queues", state.vhost, query="?columns=name,policy") or []}
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in mgmt.get("bindings", state.vhost) or []}
    drift = [
        f"exchange {e.name} missing"
        if e.name not in exchanges
        else f"exchange {e.name} is {exchanges[e.name]} instead of {e.type} (delete it, run setup)"
        for e in topo.exchanges()
        if exchanges.get(e.name) != e.type
    ]
    for q in topo.queues():
        drift += (
            [f"queue {q.name} missing"]
            if q.name not in queues
            else [
                f"binding {q.name} <- {b.exchange.name} {b.routing_key!r} missing"
                for b in q.bindings
                if (b.exchange.name, q.name, b.routing_key) not in bindings
            ]
        )
    # One policy governs a queue, the one of highest priority: another matching one would silently
    # take away its length limit or its dead-lettering. The queue's policy comes from statistics a
    # few seconds old: a policy not there any more is not reported, nor a queue not reported yet.
    existing = {p["name"] for p in mgmt.get("policies", state.vhost) or []}
    for name, want in state.policies.items():
        drift += [
            f"queue {q.name} is governed by policy {queues[q.name]!r} instead of {name}"
            for q in topo.queues()
            if re.search(want["pattern"], q.name) and queues.get(q.name) in existing - {name}
        ]
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
        drift += (
            [f"permission {name} on vhost {vhost!r} missing"]
            if perm is None
            else _differences(f"permission {name}", perm, state.permissions[name])
        )
        topics, wanted = _topics(mgmt, vhost, name), state.topic_permissions[name]
        for exchange, want_t in wanted.items():
            drift += (
                [f"topic permission {name} on {exchange} missing"]
                if exchange not in topics
                else _differences(f"topic permission {name} on {exchange}", topics[exchange], want_t)
            )
        drift += [f"topic permission {name} on {e}: extra" for e in sorted(topics.keys() - wanted.keys())]
        if found is not None:
            drift += _differences(f"user {name} limit", _limits(mgmt, name), state.limits[name])
    for perm in mgmt.get("vhosts", vhost, "permissions") or []:  # the administrator's own is expected
        if perm["user"] not in state.users and perm["user"] != mgmt.username:
            drift.append(
                f"extra permission: user {perm['user']} on vhost {vhost!r} "
                f"(configure {perm['configure']!r}, write {perm['write']!r}, read {perm['read']!r})"
            )
    for name, want in state.policies.items():
        found = _policy(mgmt.get("policies", vhost, name))
        drift += [f"policy {name} missing"] if found is None else _differences(f"policy {name}", found, want)
    return drift + _topology_drift(mgmt, state)


def apply(admin_http_url: str, state: State, amqp_url: str | None = None, tls: TLSSettings | None = None) -> dict:
    """Make the broker match `state`, touching only what differs; `amqp_url` (the administrator's)
    also declares the topology in the vhost. Returns each user's status and the changes made."""
    mgmt, vhost, changes, statuses = Management(admin_http_url), state.vhost, [], {}
    if mgmt.get("vhosts", vhost) is None:
        mgmt.put({"description": f"guichet unique ({state.namespace})"}, "vhosts", vhost)  # grants its creator
        changes.append(f"created vhost {vhost!r}")
    for name, want in state.users.items():
        found = mgmt.get("users", name)
        stale = found is not None and (
            _tags(found.get("tags")) != _tags(want["tags"]) or not _password_matches(found, want["password"])
        )
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
        limits = _limits(mgmt, name)
        for limit, value in state.limits[name].items():
            if limits.get(limit) != value:
                mgmt.put({"value": value}, "user-limits", name, limit)
                changes.append(f"set {limit} of {name} to {value}")
    for name, want in state.policies.items():
        if _policy(mgmt.get("policies", vhost, name)) != want:
            mgmt.put(want, "policies", vhost, name)
            changes.append(f"set policy {name}")
    if amqp_url is not None:  # the administrator declares everything: no account needs configure rights
        bus = Bus(
            urlsplit(amqp_url)._replace(path="/" + quote(vhost, safe="")).geturl(),
            Topology(PARTIES, namespace=state.namespace, queue_type=state.queue_type),
            tls=tls,
        )
        try:
            bus.declare()
        finally:
            bus.close()
    return {"users": statuses, "changes": changes}
