"""Broker accounts on the real RabbitMQ: `guichet broker setup` into a fresh vhost, then each account
is tried against the broker itself. With the SMOE's account, publishing an OFII message type or
reading the consulate's queue is refused by RabbitMQ (403 ACCESS_REFUSED)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import amqp
import pytest

from guichet.bus import Bus
from guichet.topology import Topology
from guichet_cli.commands import broker
from guichet_operations import broker_admin
from guichet_operations.error_queue import ErrorQueue, Selection
from services.parties import PARTIES
from tests.conftest import wait_until
from tests.services import guichet

pytestmark = pytest.mark.broker


@dataclass
class Accounts:
    admin_amqp: str
    admin_http: str
    vhost: str
    namespace: str
    prefix: str
    credentials: Path
    setup_output: str = ""

    def cli(self, command: str, *extra: str) -> int:
        """`guichet broker COMMAND` through its own parser (cli.py registers the module separately)."""
        parser = argparse.ArgumentParser(prog="guichet")
        broker.add_command(parser.add_subparsers(dest="command", required=True))
        args = parser.parse_args(
            [
                "broker",
                command,
                "--broker",
                self.admin_amqp,
                "--vhost",
                self.vhost,
                "--namespace",
                self.namespace,
                "--user-prefix",
                self.prefix,
                "--credentials",
                str(self.credentials),
                *extra,
            ]
        )
        return args.func(args)

    def user(self, role: str) -> str:
        return f"{self.prefix}{role}"

    def password(self, role: str) -> str:
        return json.loads(self.credentials.read_text())[self.user(role)]

    def url(self, role: str) -> str:
        return broker_admin.service_url(self.admin_amqp, self.user(role), self.password(role), self.vhost)

    def connect(self, role: str) -> amqp.Connection:
        conn = amqp.Connection(
            "127.0.0.1:5672",
            userid=self.user(role),
            password=self.password(role),
            virtual_host=self.vhost,
            confirm_publish=True,
            connect_timeout=10,
        )
        conn.connect()
        return conn

    @property
    def api(self) -> broker_admin.Management:
        return broker_admin.Management(self.admin_http)


@pytest.fixture
def accounts(amqp_url, tmp_path, capsys):
    admin_http = broker_admin.management_url(amqp_url)
    api = broker_admin.Management(admin_http)
    try:
        api.get("overview")
    except ConnectionError as exc:  # a broker test fails, never skips
        pytest.fail(f"{exc} (the broker tests need the management plugin)")
    tag = uuid.uuid4().hex[:8]
    acc = Accounts(amqp_url, admin_http, f"test-{tag}", f"test-{tag}", f"t{tag}-", tmp_path / "credentials.json")
    try:
        assert acc.cli("setup") == 0
        acc.setup_output = capsys.readouterr().out
        yield acc
    finally:
        capsys.readouterr()
        api.delete("vhosts", acc.vhost) if api.get("vhosts", acc.vhost) else None
        for user in api.get("users") or []:
            if user["name"].startswith(acc.prefix):
                api.delete("users", user["name"])


def refused(action) -> bool:
    """True when RabbitMQ refuses the action with 403 ACCESS_REFUSED (and closes the channel)."""
    try:
        action()
    except amqp.exceptions.AccessRefused as exc:
        assert exc.reply_code == 403 and "ACCESS_REFUSED" in str(exc)
        return True
    return False


def publish(conn: amqp.Connection, exchange: str, routing_key: str, body: bytes = b"{}") -> None:
    conn.channel().basic_publish(amqp.Message(body, delivery_mode=2), exchange=exchange, routing_key=routing_key)


def test_smoe_account_is_refused_an_ofii_message_type_and_the_consulate_s_queue(accounts):
    ns = accounts.namespace
    without_password = broker_admin.service_url(accounts.admin_amqp, accounts.user("smoe"), None, accounts.vhost)
    assert without_password in accounts.setup_output, "setup prints the URL each service connects with"
    assert accounts.password("smoe") not in accounts.setup_output, "but not its password (--show-passwords)"
    assert stat.S_IMODE(os.stat(accounts.credentials).st_mode) == 0o600
    smoe, ofii = accounts.connect("smoe"), accounts.connect("ofii")
    try:
        assert refused(lambda: publish(smoe, f"{ns}.flux", "smoe.ofii.transmission_smoe"))
        assert refused(lambda: smoe.channel().basic_get(f"{ns}.consulat"))
        assert refused(lambda: smoe.channel().basic_get(f"{ns}.retard")), "only the OFII relays late messages"
        publish(smoe, f"{ns}.flux", "ofii.smoe.decision_autorisation_travail", b'{"from": "smoe"}')
        got = wait_until(lambda: ofii.channel().basic_get(f"{ns}.ofii", no_ack=True), 10, "the SMOE's decision")
        assert got.body == b'{"from": "smoe"}'
        publish(ofii, f"{ns}.flux", "smoe.ofii.transmission_smoe", b'{"from": "ofii"}')
        got = wait_until(lambda: smoe.channel().basic_get(f"{ns}.smoe", no_ack=True), 10, "the OFII's transmission")
        assert got.body == b'{"from": "ofii"}', "the SMOE reads its own queue"
    finally:
        smoe.close()
        ofii.close()


@pytest.mark.parametrize(
    "role, exchange, routing_key, allowed",
    [
        ("consulat", "flux", "ofii.consulat.decision_visa", True),
        ("consulat", "flux", "prefecture.ofii.transmission_prefecture", False),
        ("prefecture", "flux", "ofii.smoe.decision_autorisation_travail", False),
        ("ofii", "flux", "consulat.ofii.transmission_consulat", True),
        ("ofii", "flux", "ofii.consulat.decision_visa", True),  # the late relay, OFII only
        ("ofii", "flux", "ofii.employeur.recours_gracieux", False),  # simulated actors: only with --simulated-actors
        ("employeur", "flux", "ofii.employeur.depot_autorisation_travail", True),
        ("employeur", "flux", "smoe.ofii.transmission_smoe", False),
        ("employeur", "flux", "smoe.employeur.demande_autorisation_travail_en_ligne", True),  # 2021: online
        ("employeur", "flux", "consulat.travailleur.demande_competences_talents", True),  # II.A.2
        ("employeur", "flux", "ofii.travailleur.presentation_convocation", False),
        ("smoe", "flux", "employeur.smoe.accuse_depot", True),
        ("smoe", "flux", "travailleur.smoe.autorisation_travail_securisee.travailleur", True),
        ("operateur", "flux", "smoe.ofii.transmission_smoe", False),  # no business message of its own
        ("operateur", "rejeu", "smoe.ofii.transmission_smoe", True),  # replaying a failed message
        ("smoe", "vers.erreurs", "smoe.ofii.transmission_smoe", True),  # a message that failed at the SMOE
        ("smoe", "vers.erreurs", "smoe.quarantaine", True),  # a delivery not addressed to it
        ("smoe", "vers.erreurs", "consulat.ofii.transmission_consulat", False),
        ("ofii", "vers.erreurs", "consulat.ofii.transmission_consulat", True),  # the relay's dead-lettered messages
        ("smoe", "vers.retard", "", False),  # only the broker dead-letters there
        ("smoe", "rejeu", "smoe.ofii.transmission_smoe", False),  # the operator's alone
    ],
)
def test_each_account_publishes_only_what_its_role_sends(accounts, role, exchange, routing_key, allowed):
    conn = accounts.connect(role)
    try:
        assert refused(lambda: publish(conn, f"{accounts.namespace}.{exchange}", routing_key)) is not allowed
    finally:
        conn.close()


def test_verify_reports_drift_and_a_second_setup_repairs_it(accounts, capsys):
    ns, smoe, api = accounts.namespace, accounts.user("smoe"), accounts.api
    assert accounts.cli("verify") == 0 and capsys.readouterr().out.strip() == "no drift"
    assert accounts.cli("setup", "--json") == 0
    again = json.loads(capsys.readouterr().out)
    assert again["changes"] == [] and {a["status"] for a in again["accounts"]} == {"unchanged"}

    api.put({"configure": "^$", "write": ".*", "read": ".*"}, "permissions", accounts.vhost, smoe)
    api.put({"exchange": f"{ns}.flux", "write": ".*", "read": ".*"}, "topic-permissions", accounts.vhost, smoe)
    api.delete("policies", accounts.vhost, f"{ns}.agences")
    api.delete("user-limits", smoe, "max-connections")
    # A policy of higher priority would take the error queue's length limit away.
    api.put(
        {"pattern": f"^{ns}\\.erreurs$", "apply-to": "queues", "priority": 5, "definition": {"max-length": 10**9}},
        "policies",
        accounts.vhost,
        "intrus",
    )
    assert accounts.cli("verify") == 1
    drift = capsys.readouterr().out
    assert f"permission {smoe} write: '.*'" in drift and f"permission {smoe} read: '.*'" in drift
    assert f"topic permission {smoe} on {ns}.flux write: '.*'" in drift and f"policy {ns}.agences missing" in drift
    assert f"user {smoe} limit max-connections: None instead of 32" in drift

    def governed() -> bool:
        accounts.cli("verify")
        return f"queue {ns}.erreurs is governed by policy 'intrus' instead of {ns}.erreurs" in capsys.readouterr().out

    wait_until(governed, 15, "the broker's statistics naming the policy that governs the error queue")
    api.delete("policies", accounts.vhost, "intrus")

    assert accounts.cli("setup") == 0
    capsys.readouterr()
    assert accounts.cli("verify") == 0 and capsys.readouterr().out.strip() == "no drift"
    conn = accounts.connect("smoe")
    try:
        assert refused(lambda: publish(conn, f"{ns}.flux", "smoe.ofii.transmission_smoe"))
    finally:
        conn.close()


def test_verify_names_an_account_setup_does_not_manage(accounts, capsys):
    intruder = accounts.user("intrus")
    accounts.api.put({"password": uuid.uuid4().hex, "tags": ""}, "users", intruder)
    accounts.api.put({"configure": ".*", "write": ".*", "read": ".*"}, "permissions", accounts.vhost, intruder)
    assert accounts.cli("verify") == 1
    assert f"extra permission: user {intruder}" in capsys.readouterr().out


class LeastPrivilegeBlocked(Exception):
    """The service kept being refused (ACCESS_REFUSED) with its own account: see the report on
    guichet/topology.py, guichet/bus.py and guichet/serve.py."""


@pytest.mark.parametrize("agency", ["smoe", "ofii"])
def test_a_service_runs_with_its_own_account(accounts, tmp_path, agency):
    data, log_path = tmp_path / "data", tmp_path / f"{agency}.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            guichet(
                "run",
                agency,
                "--broker",
                accounts.url(agency),
                "--namespace",
                accounts.namespace,
                "--data-dir",
                str(data),
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        alive = False
        while time.monotonic() < deadline and "ACCESS_REFUSED" not in log_path.read_text():
            health = subprocess.run(
                guichet("health", agency, "--data-dir", str(data)), capture_output=True, check=False
            )
            alive = health.returncode == 0
            if alive:
                break
            time.sleep(0.3)
        if alive:  # its consumer is on its queue: basic.consume was permitted too
            wait_until(
                lambda: (
                    (accounts.api.get("queues", accounts.vhost, f"{accounts.namespace}.{agency}") or {}).get(
                        "consumers"
                    )
                    == 1
                ),
                10,
                f"the {agency} consumer",
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log_path.read_text()
    if not alive:
        text = log_path.read_text()
        if "ACCESS_REFUSED" in text:
            raise LeastPrivilegeBlocked(text[-1500:])
        pytest.fail(f"the {agency} service did not come alive:\n{text[-1500:]}")


class ForgedThroughWaitQueue(Exception):
    """A message of another agency's type reached its recipient through a wait queue."""


def test_an_agency_cannot_forge_a_message_through_a_wait_queue(accounts):
    ns, smoe, consulat = accounts.namespace, accounts.connect("smoe"), accounts.connect("consulat")
    try:
        if refused(lambda: publish(smoe, f"{ns}.vers.attente.1s", "consulat.ofii.transmission_consulat", b"forged")):
            return
        if wait_until(lambda: consulat.channel().basic_get(f"{ns}.consulat", no_ack=True), 10, "the dead-letter"):
            raise ForgedThroughWaitQueue("the consulate received an 'ofii' transmission the SMOE published")
    finally:
        smoe.close()
        consulat.close()


def test_an_agency_cannot_send_a_message_elsewhere_through_an_operator_s_replay(accounts):
    """The SMOE puts a message in the error queue claiming, in its headers, that it failed at the
    consulate. The operator's replay sends it back by the routing key the broker checked: to the
    SMOE's own queue, never to the consulate's."""
    ns, smoe = accounts.namespace, accounts.connect("smoe")
    claimed = "consulat.ofii.transmission_consulat"
    try:
        smoe.channel().basic_publish(
            amqp.Message(
                b"forged",
                delivery_mode=2,
                message_id="forged-1",
                content_type="application/json",
                application_headers={
                    "x-guichet-error-routing-key": claimed,
                    "x-guichet-error-queue": f"{ns}.consulat",
                    "x-guichet-error-reason": "handler_error",
                },
            ),
            exchange=f"{ns}.vers.erreurs",
            routing_key="smoe.ofii.transmission_smoe",
        )
    finally:
        smoe.close()
    operator = Bus(accounts.url("operateur"), Topology(PARTIES, namespace=ns))
    try:
        replayed = ErrorQueue(operator).browse(Selection(ids=["forged-1"]), act=ErrorQueue(operator).replay)
        assert [e.routing_key for e in replayed] == ["smoe.ofii.transmission_smoe"]
        wait_until(lambda: operator.depth(f"{ns}.smoe") == 1, 10, "the replay in the SMOE's own queue")
        assert operator.depth(f"{ns}.consulat") == 0, "the claimed routing key was not followed"
    finally:
        operator.close()


def test_the_operator_account_archives_and_restores_a_failed_message(accounts):
    """The operations view archives instead of purging, with the operator's own account: it may
    declare the archive, move a failed message there and file it back in the error queue."""
    from guichet_operations.view import error_actions as ops_errors

    ns, smoe = accounts.namespace, accounts.connect("smoe")
    try:
        smoe.channel().basic_publish(
            amqp.Message(
                b"{}",
                delivery_mode=2,
                message_id="to-archive-1",
                content_type="application/json",
                application_headers={"x-guichet-error-reason": "handler_error"},
            ),
            exchange=f"{ns}.vers.erreurs",
            routing_key="smoe.ofii.transmission_smoe",
        )
    finally:
        smoe.close()
    operator = Bus(accounts.url("operateur"), Topology(PARTIES, namespace=ns))
    try:
        archived = ops_errors.archive(operator, Selection(ids=["to-archive-1"]), limit=5)
        assert [e.id for e in archived] == ["to-archive-1"]
        assert operator.depth(f"{ns}.erreurs") == 0
        assert [e.id for e in ops_errors.archived(operator)] == ["to-archive-1"], "kept, not purged"
        restored = ops_errors.restore(operator, ["to-archive-1"], limit=5)
        assert [e.id for e in restored] == ["to-archive-1"]
        back = ErrorQueue(operator).browse(Selection(ids=["to-archive-1"]))
        assert [e.routing_key for e in back] == ["smoe.ofii.transmission_smoe"], "under the key it had"
        assert ops_errors.archived(operator) == []
    finally:
        operator.close()
