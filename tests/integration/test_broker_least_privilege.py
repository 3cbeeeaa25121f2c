"""The broker as the first lock, tried on the real RabbitMQ with the accounts `guichet broker setup`
makes: every account against every message type, the operator's account, bindings, full queues
and account limits. A refused publish closes its channel (403): each attempt has one of its own."""

from __future__ import annotations

import amqp
import pytest

from guichet_operations.broker_management import BrokerAdminError, Management
from schemas.base import AGENCIES
from schemas.catalogue import message_registry
from tests.conftest import wait_until
from tests.integration import test_broker_permissions
from tests.integration.test_broker_permissions import refused
from tests.unit.test_broker_permission_table import sends

MESSAGES = message_registry()

pytestmark = pytest.mark.broker

ROLES = (*AGENCIES, "operateur", "employeur")
accounts = test_broker_permissions.accounts  # the fixture: a vhost set up by `guichet broker setup`


def attempt(conn: amqp.Connection, action) -> bool:
    """Run `action(channel)` on a channel of its own: False when RabbitMQ refused it (403)."""
    channel = conn.channel()
    if refused(lambda: action(channel)):
        return False
    channel.close()
    return True


def publishing(exchange: str, routing_key: str, body: bytes = b"{}"):
    return lambda channel: channel.basic_publish(
        amqp.Message(body, delivery_mode=2), exchange=exchange, routing_key=routing_key
    )


def test_every_account_publishes_on_the_flow_exchange_only_the_types_its_party_sends(accounts):
    flux, wrong = f"{accounts.namespace}.flux", []
    for role in ROLES:
        conn = accounts.connect(role)
        try:
            for type_, cls in sorted(MESSAGES.items()):
                key = f"{cls.RECIPIENT}.{type_}"
                if attempt(conn, publishing(flux, key)) is not sends(role, cls, simulated_actors=False):
                    wrong.append(f"{role} {'may' if not sends(role, cls, False) else 'may not'} publish {key}")
        finally:
            conn.close()
    assert wrong == []


def test_a_made_up_type_under_an_agency_s_prefix_is_refused(accounts):
    ofii = accounts.connect("ofii")
    try:
        assert not attempt(ofii, publishing(f"{accounts.namespace}.flux", "consulat.smoe.decision_visa"))
        assert attempt(ofii, publishing(f"{accounts.namespace}.flux", "consulat.ofii.transmission_consulat"))
    finally:
        ofii.close()


def test_the_operator_publishes_no_business_message_binds_nothing_and_configures_nothing(accounts):
    ns, op = accounts.namespace, accounts.connect("operateur")
    try:
        for exchange in (f"{ns}.flux", f"{ns}.vers.attente.1s", f"{ns}.vers.retard", ""):
            assert not attempt(op, publishing(exchange, "smoe.ofii.transmission_smoe")), exchange
        assert attempt(op, publishing(f"{ns}.rejeu", "smoe.ofii.transmission_smoe")), "its replay"
        assert not attempt(op, publishing(f"{ns}.rejeu", "usagers.x")), "the replay reaches agencies only"
        # A silent copy of every failure: the archive bound to the error exchange.
        assert not attempt(op, lambda ch: ch.queue_bind(f"{ns}.erreurs.archive", f"{ns}.vers.erreurs", "#"))
        assert not attempt(op, lambda ch: ch.queue_bind(f"{ns}.erreurs", f"{ns}.rejeu", "#"))
        assert not attempt(op, lambda ch: ch.queue_declare(f"{ns}.erreurs.archive", durable=True, auto_delete=False))
        assert not attempt(op, lambda ch: ch.queue_declare(f"{ns}.copie", durable=True, auto_delete=False))
        assert not attempt(
            op, lambda ch: ch.exchange_declare(f"{ns}.vers.erreurs.archive", "fanout", durable=True, auto_delete=False)
        )
        assert attempt(op, lambda ch: ch.basic_get(f"{ns}.erreurs")), "it reads the error queue"
    finally:
        op.close()


def test_the_operator_account_cannot_use_the_management_api(accounts):
    """No tag: the management API (where `monitoring` lists every vhost of the broker) refuses it."""
    user, password = accounts.user("operateur"), accounts.password("operateur")
    api = Management(f"http://{user}:{password}@127.0.0.1:15672/")
    with pytest.raises(BrokerAdminError, match="HTTP 401"):
        api.get("vhosts")


def test_no_account_binds_the_error_queue_to_the_late_exchange_nor_anything_else(accounts):
    ns = accounts.namespace
    for role in ROLES:
        conn = accounts.connect(role)
        try:
            assert not attempt(conn, lambda ch: ch.queue_bind(f"{ns}.erreurs", f"{ns}.vers.retard", "")), role
            own = f"{ns}.{role}" if role in AGENCIES else f"{ns}.usagers"
            assert not attempt(conn, lambda ch, own=own: ch.queue_bind(own, f"{ns}.flux", "#")), role
        finally:
            conn.close()


def held(accounts, queue: str) -> list[bytes]:
    """The bodies waiting in a queue, read with the administrator's account and left there."""
    conn = amqp.Connection("127.0.0.1:5672", userid="guest", password="guest", virtual_host=accounts.vhost)
    conn.connect()
    try:
        channel, bodies = conn.channel(), []
        while (message := channel.basic_get(f"{accounts.namespace}.{queue}")) is not None:
            bodies.append(message.body)
        return bodies
    finally:
        conn.close()


def limited(accounts, queue: str, length: int) -> bool:
    found = accounts.api.get("queues", accounts.vhost, f"{accounts.namespace}.{queue}") or {}
    return (found.get("effective_policy_definition") or {}).get("max-length") == length


def test_a_full_queue_refuses_the_publish_and_drops_nothing(accounts):
    """Two messages at most: the third is nacked, the first two stay (no drop-head); what the
    classic agency queue refused goes to the late queue, whose relay files it."""
    ns = accounts.namespace
    assert accounts.cli("setup", "--max-queue-length", "2") == 0
    for queue in ("ofii", "erreurs"):
        wait_until(lambda queue=queue: limited(accounts, queue, 2), 15, f"the length limit on {ns}.{queue}")
    smoe = accounts.connect("smoe")
    try:
        for exchange, key, queue in (
            (f"{ns}.flux", "ofii.smoe.decision_autorisation_travail", "ofii"),
            (f"{ns}.vers.erreurs", "smoe.quarantaine", "erreurs"),
        ):
            for body in (b"1", b"2"):
                assert attempt(smoe, publishing(exchange, key, body))
            with pytest.raises(amqp.exceptions.MessageNacked):
                publishing(exchange, key, b"3")(smoe.channel())
            assert held(accounts, queue) == [b"1", b"2"], f"{queue}: the oldest kept, the newest refused"
        assert held(accounts, "retard") == [b"3"], "refused by the agency queue, dead-lettered, not dropped"
    finally:
        smoe.close()


def test_an_account_over_its_connection_or_channel_limit_is_refused(accounts):
    assert accounts.cli("setup", "--max-connections", "2", "--max-channels", "3") == 0
    first, second = accounts.connect("smoe"), accounts.connect("smoe")
    others = accounts.connect("consulat")  # a limit per account: the others still connect
    try:
        with pytest.raises(amqp.exceptions.NotAllowed, match="connection limit"):
            accounts.connect("smoe")
        first.channel(), first.channel(), second.channel()
        with pytest.raises(amqp.exceptions.NotAllowed, match="channels"):
            second.channel()
    finally:
        for conn in (first, second, others):
            try:
                conn.close()
            except Exception:  # the broker closed it (over its channel limit)
                pass


def test_an_agency_ships_audit_copies_under_its_own_name_only(accounts):
    """The supervision store files a copy under its routing key: no agency may ship for another."""
    audit = f"{accounts.namespace}.vers.supervision"
    for agency in AGENCIES:
        conn = accounts.connect(agency)
        try:
            assert attempt(conn, publishing(audit, agency)), agency
            for other in (a for a in AGENCIES if a != agency):
                assert not attempt(conn, publishing(audit, other)), f"{agency} shipping for {other}"
            assert not attempt(conn, lambda ch: ch.basic_get(f"{accounts.namespace}.supervision")), agency
        finally:
            conn.close()


def test_the_supervision_account_reads_its_queues_replays_and_publishes_nothing_else(accounts):
    ns, sup = accounts.namespace, accounts.connect("supervision")
    try:
        assert attempt(sup, lambda ch: ch.basic_get(f"{ns}.supervision")), "it reads the audit copies"
        assert attempt(sup, lambda ch: ch.basic_get(f"{ns}.erreurs")), "it takes the error queue"
        assert attempt(sup, publishing(f"{ns}.rejeu", "smoe.ofii.transmission_smoe")), "its replay"
        for exchange in (f"{ns}.flux", f"{ns}.vers.supervision", f"{ns}.vers.erreurs", f"{ns}.refusals", ""):
            assert not attempt(sup, publishing(exchange, "ofii")), exchange
        for queue in (*AGENCIES, "usagers", "retard", "erreurs.archive"):
            assert not attempt(sup, lambda ch, q=queue: ch.basic_get(f"{ns}.{q}")), queue
        assert not attempt(sup, lambda ch: ch.queue_bind(f"{ns}.supervision", f"{ns}.flux", "#"))
    finally:
        sup.close()
