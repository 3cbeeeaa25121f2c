"""Refusal notices on the real RabbitMQ, with the accounts `guichet broker setup` makes: the party
whose account published a refused message finds a notice in its own refusal queue, which no other
account reads; a message claiming another sender notifies the account that published it, not the
party it names; the refused message stays in the error queue; a flood of notices stays bounded."""

from __future__ import annotations

import json

import amqp
import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.register import Register
from guichet.runner import Runner
from guichet.topology import REFUSAL_QUEUE_LENGTH
from guichet.trust import KeyDirectory, Trust
from guichet_cli.main import main
from services.bootstrap import compose
from tests.conftest import DIRECTORY, wait_until
from tests.integration.test_broker_permissions import accounts, refused  # noqa: F401  (the fixture)
from tests.integration.test_hostile_deliveries import DEPOSIT_KEY, START, Agencies, deposit, filed, poll, publish_as
from tests.integration.test_signed_messages import employer_filing, make_keys

pytestmark = pytest.mark.broker


@pytest.fixture
def agencies(accounts, tmp_path):  # noqa: F811  (the fixture imported above)
    made = Agencies(accounts, tmp_path)
    yield made
    made.close()


def notices(accounts, role: str, party: str) -> list[dict]:
    """The notices in `party`'s refusal queue, read with `role`'s account and left there."""
    conn = accounts.connect(role)
    try:
        channel, got = conn.channel(), []
        while (message := channel.basic_get(f"{accounts.namespace}.{party}.refusals")) is not None:
            got.append(json.loads(message.body))
        return got
    finally:
        conn.close()


def schema_violating(dossier_id: str) -> tuple[bytes, dict, str]:
    envelope = deposit(dossier_id)
    raw = json.loads(envelope.body())
    raw["payload"] = {"siret": 987654}  # wrong type, and every required field missing
    return json.dumps(raw).encode(), envelope.headers(), str(envelope.message_id)


def test_a_schema_violating_message_is_notified_to_its_sender_only_once(accounts, agencies):  # noqa: F811
    body, headers, message_id = schema_violating("D-1")
    for _ in range(2):  # the same refused message twice: one notice
        publish_as(accounts, "employeur", DEPOSIT_KEY, body, headers)
    ofii = agencies.runner("ofii")
    poll(ofii)
    got = wait_until(lambda: notices(accounts, "employeur", "employeur"), 10, "the employer's notice")
    assert len(got) == 1, "one notice per refused message id"
    [notice] = got
    assert notice["message_id"] == message_id and notice["reason"] == "invalid_payload"
    assert notice["refused_by"] == "ofii" and notice["identified_by"] == "account"
    assert notice["recipient"] == "employeur" and notice["dossier_id"] == "D-1" and notice["error"]
    assert "payload" not in notice, "no payload in a notice"
    assert len(notice["errors"]) > 1 and all(e.startswith("payload.") for e in notice["errors"]), "each error"
    assert "987654" not in json.dumps(notice), "never the value refused"
    smoe = accounts.connect("smoe")
    try:
        assert refused(lambda: smoe.channel().basic_get(f"{accounts.namespace}.employeur.refusals"))
    finally:
        smoe.close()
    in_errors = [m for m in filed(accounts) if m.headers["x-guichet-error-message_id"] == message_id]
    assert len(in_errors) == 2 and {m.headers["x-guichet-error-reason"] for m in in_errors} == {"invalid_payload"}


def test_a_message_claiming_another_sender_notifies_the_account_that_published_it(accounts, agencies):  # noqa: F811
    """The portal publishes, under a key it may use, a message that says it comes from the SMOE:
    refused (wrong account), and the portal is told, never the SMOE."""
    envelope = deposit("D-2")
    raw = json.loads(envelope.body())
    raw["sender"] = {"agency": "smoe", "office": None}
    publish_as(accounts, "employeur", DEPOSIT_KEY, json.dumps(raw).encode(), {**envelope.headers(), "sender": "smoe"})
    poll(agencies.runner("ofii"))
    [notice] = wait_until(lambda: notices(accounts, "employeur", "employeur"), 10, "the portal's notice")
    assert notice["reason"] == "wrong_account" and notice["message_id"] == str(envelope.message_id)
    assert filed(accounts, "smoe.refusals") == [], "the party named in the message hears nothing"
    assert [m.headers["x-guichet-error-reason"] for m in filed(accounts)] == ["wrong_account"]


def test_a_badly_signed_message_is_notified_to_its_sender(accounts, tmp_path):  # noqa: F811
    directory, keys = make_keys(tmp_path, ("ofii", "employeur"))
    trust = Trust(KeyDirectory(directory), keys)
    agencies = Agencies(accounts, tmp_path)
    bus = Bus(accounts.url("ofii"), agencies.topology)
    bus.connect()
    register = Register(str(tmp_path / "ofii.sqlite3"), "ofii")
    runner = Runner(Agency(compose(DIRECTORY).agencies["ofii"], register, VirtualClock(START), trust=trust), bus)
    try:
        signed = trust.sign(employer_filing("D-3"))
        altered = json.loads(signed.body())
        altered["dossier_id"] = "D-4"
        headers = {**signed.headers(), "dossier_id": "D-4"}
        publish_as(accounts, "employeur", DEPOSIT_KEY, json.dumps(altered).encode(), headers)
        poll(runner)
        [notice] = wait_until(lambda: notices(accounts, "employeur", "employeur"), 10, "the employer's notice")
        assert notice["reason"] == "bad_signature" and notice["message_id"] == str(signed.message_id)
        assert [m.headers["x-guichet-error-reason"] for m in filed(accounts)] == ["bad_signature"]
    finally:
        register.close()
        bus.close()


def test_a_flood_of_notices_keeps_the_newest_within_the_bound(accounts):  # noqa: F811
    """An agency's account notifies the portal far more than the bound: the queue keeps the newest."""
    ofii = accounts.connect("ofii")
    try:
        channel = ofii.channel()
        for n in range(REFUSAL_QUEUE_LENGTH + 20):
            channel.basic_publish(
                amqp.Message(str(n).encode(), delivery_mode=2),
                exchange=f"{accounts.namespace}.refusals",
                routing_key="employeur",
            )
        assert refused(
            lambda: ofii.channel().basic_publish(
                amqp.Message(b"x"), exchange=f"{accounts.namespace}.refusals", routing_key="operateur"
            )
        ), "only the parties that publish to the DT-OFII"
    finally:
        ofii.close()

    def depth() -> int:
        conn = accounts.connect("employeur")
        try:
            return int(conn.channel().queue_declare(f"{accounts.namespace}.employeur.refusals", passive=True)[1])
        finally:
            conn.close()

    wait_until(lambda: depth() == REFUSAL_QUEUE_LENGTH, 10, "the refusal queue at its bound")
    first = filed(accounts, "employeur.refusals")[0]
    assert first.body == b"20", "the oldest dropped first"


def test_the_refusals_command_shows_a_party_its_notices_with_its_own_account_only(accounts, agencies, capsys):  # noqa: F811
    body, headers, message_id = schema_violating("D-5")
    publish_as(accounts, "employeur", DEPOSIT_KEY, body, headers)
    poll(agencies.runner("ofii"))
    wait_until(lambda: notices(accounts, "employeur", "employeur"), 10, "the employer's notice")
    command = ["refusals", "employeur", "--namespace", accounts.namespace, "--json"]
    capsys.readouterr()
    assert main([*command, "--broker", accounts.url("employeur")]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["count"] == 1 and shown["notices"][0]["message_id"] == message_id
    assert len(notices(accounts, "employeur", "employeur")) == 1, "read, not taken"
    assert main([*command, "--broker", accounts.url("smoe")]) != 0, "another party's account reads nothing"
    assert main([*command, "--broker", accounts.url("employeur"), "--ack"]) == 0
    assert notices(accounts, "employeur", "employeur") == []


def test_every_account_declares_the_topology_with_the_refusal_queues_it_may_not_read(accounts):  # noqa: F811
    """An agency's service declares the whole topology at start, passively for what it may not
    configure: other parties' refusal queues included."""
    for role in ("smoe", "employeur"):
        bus = Bus(accounts.url(role), Agencies(accounts, None).topology)
        try:
            assert bus.declare() == {}, role
        finally:
            bus.close()
