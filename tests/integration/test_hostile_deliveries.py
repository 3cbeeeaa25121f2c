"""Deliveries a faulty or hostile connector can make with its own least-privilege account, on the
real RabbitMQ: each is refused with its reason in the error queue, changes nothing in any register,
and never comes back to jam the agency (DESIGN.md, "Trust between separate administrations").

RabbitMQ 3.x routes a message's `CC` and `BCC` keys without checking them against the publisher's
topic permissions: any account can have a copy delivered to any agency's queue. Such a copy is not
addressed to that agency, whose account may not write its routing key on the error exchange: it is
filed under `<agency>.quarantaine`, and when even that filing is refused it is rejected without
requeue, dead-lettered to the late queue, and filed by the relay."""

from __future__ import annotations

import json
from datetime import datetime

import amqp
import pytest

from guichet.agency import Agency
from guichet.bus import Bus
from guichet.clock import VirtualClock
from guichet.envelope import Sender, wrap
from guichet.register import Register
from guichet.runner import Runner
from guichet.timeutil import PARIS
from guichet.topology import Topology
from schemas.visa import DecisionVisa
from services.bootstrap import compose
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, dossier, scenario, wait_until
from tests.integration.test_broker_permissions import accounts  # noqa: F401  (the fixture)

pytestmark = pytest.mark.broker

START = datetime(2026, 1, 5, 9, tzinfo=PARIS)
DEPOSIT_KEY = "ofii.employeur.depot_autorisation_travail"


class Agencies:
    """Agencies run in this process, each connected with its own account of the vhost."""

    def __init__(self, accounts, tmp_path):
        self.accounts, self.tmp_path, self.runners = accounts, tmp_path, {}
        self.topology = Topology(PARTIES, namespace=accounts.namespace)

    def runner(self, agency: str) -> Runner:
        if agency not in self.runners:
            bus = Bus(self.accounts.url(agency), self.topology)
            bus.connect()
            register = Register(str(self.tmp_path / f"{agency}.sqlite3"), agency)
            self.runners[agency] = Runner(
                Agency(compose(DIRECTORY).agencies[agency], register, VirtualClock(START)), bus
            )
        return self.runners[agency]

    def close(self) -> None:
        for runner in self.runners.values():
            runner.agency.register.close()
            runner.bus.close()


@pytest.fixture
def agencies(accounts, tmp_path):  # noqa: F811  (the fixture imported above)
    made = Agencies(accounts, tmp_path)
    yield made
    made.close()


def publish_as(accounts, role: str, routing_key: str, body: bytes, headers: dict, user_id: str | None = "own") -> None:
    conn = accounts.connect(role)
    try:
        properties = {"application_headers": headers, "delivery_mode": 2, "content_type": "application/json"}
        if user_id is not None:
            properties["user_id"] = accounts.user(role) if user_id == "own" else user_id
        conn.channel().basic_publish(
            amqp.Message(body, **properties), exchange=f"{accounts.namespace}.flux", routing_key=routing_key
        )
    finally:
        conn.close()


def deposit(dossier_id: str = "D-1"):
    return filing(dossier_id, scenario(dossier(id=dossier_id)).dossiers[0], "circulaire-2012", START, DIRECTORY)


def filed(accounts, queue: str = "erreurs") -> list[amqp.Message]:
    """Everything in a queue, read with the administrator's account and left there."""
    conn = amqp.Connection(
        accounts.admin_amqp.split("@")[-1].split("/")[0], userid="guest", password="guest", virtual_host=accounts.vhost
    )
    conn.connect()
    try:
        channel, got = conn.channel(), []
        while (message := channel.basic_get(f"{accounts.namespace}.{queue}")) is not None:
            got.append(message)
        return got  # unacked: back in the queue when the connection closes
    finally:
        conn.close()


def poll(runner: Runner) -> None:
    wait_until(runner.poll_once, 10, f"a delivery at {runner.agency.name}")
    while runner.poll_once():
        pass


def test_a_copy_sent_to_another_agency_by_cc_is_quarantined_once_and_never_jams_it(accounts, agencies):  # noqa: F811
    """The employers' portal files a deposit with the DT-OFII and asks, by CC, for a copy in the
    préfecture's queue. The préfecture files the copy in the error queue under its own quarantine
    key and goes on; the broker never refuses it, and the copy is not delivered again."""
    prefecture = agencies.runner("prefecture")
    envelope = deposit()
    publish_as(
        accounts,
        "employeur",
        DEPOSIT_KEY,
        envelope.body(),
        {**envelope.headers(), "CC": ["prefecture.ofii.transmission_prefecture"]},
    )
    poll(prefecture)
    assert not prefecture.poll_once(), "the copy is not redelivered"
    assert prefecture.failed == 1 and prefecture.agency.register.dossier_ids() == set()
    [copy] = [m for m in filed(accounts) if m.headers["x-guichet-error-queue"] == prefecture.queue_name]
    assert copy.headers["x-guichet-error-reason"] == "cc_refused"
    assert copy.delivery_info["routing_key"] == "prefecture.quarantaine"
    assert copy.headers["x-guichet-error-routing-key"] == DEPOSIT_KEY
    assert copy.body == envelope.body(), "kept whole"
    # The préfecture's links still work: a second such copy is filed the same way.
    publish_as(
        accounts,
        "employeur",
        DEPOSIT_KEY,
        deposit("D-2").body(),
        {**deposit("D-2").headers(), "CC": ["prefecture.ofii.transmission_prefecture"]},
    )
    poll(prefecture)
    assert prefecture.failed == 2


def test_a_filing_the_broker_refuses_is_dead_lettered_and_filed_by_the_relay_not_looped(accounts, agencies):  # noqa: F811
    prefecture, ofii = agencies.runner("prefecture"), agencies.runner("ofii")
    errors = agencies.topology.errors_exchange.name
    # The préfecture's account loses its right to file (a broker misconfigured, an error exchange gone).
    accounts.api.put(
        {"exchange": errors, "write": "^$", "read": "^$"},
        "topic-permissions",
        accounts.vhost,
        accounts.user("prefecture"),
    )
    envelope = deposit()
    publish_as(
        accounts,
        "employeur",
        DEPOSIT_KEY,
        envelope.body(),
        {**envelope.headers(), "CC": ["prefecture.ofii.transmission_prefecture"]},
    )
    poll(prefecture)
    assert not prefecture.poll_once(), "rejected without requeue: not delivered here again"
    late_queue = agencies.topology.queue_name("retard")
    dead = wait_until(lambda: ofii.bus.get(late_queue), 10, "the rejected copy in the late queue")
    ofii.on_late(dead)
    [copy] = [m for m in filed(accounts) if m.headers.get("x-guichet-error-queue") == prefecture.queue_name]
    assert copy.headers["x-guichet-error-reason"] == "rejected" and copy.body == envelope.body()
    assert filed(accounts, "retard") == [], "filed, not relayed"
    assert ofii.agency.register.dossier_ids() == set() and prefecture.agency.register.dossier_ids() == set()


def test_another_party_s_message_under_a_key_the_account_may_use_changes_nothing(accounts, agencies):  # noqa: F811
    """The SMOE may write `ofii.smoe.decision_autorisation_travail`; under it, a consulate's visa
    refusal (II.B: the consul's decision alone) is refused, whatever its headers say."""
    ofii = agencies.runner("ofii")
    envelope = deposit()
    publish_as(accounts, "employeur", DEPOSIT_KEY, envelope.body(), envelope.headers())
    poll(ofii)
    before = ofii.agency.register.state("D-1")
    assert before is not None
    refusal = wrap(
        DecisionVisa(granted=False, reason="forged"), dossier_id="D-1", sender=Sender(agency="consulat"), sent_at=START
    )
    key = "ofii.smoe.decision_autorisation_travail"
    publish_as(accounts, "smoe", key, refusal.body(), refusal.headers())
    publish_as(
        accounts, "smoe", key, refusal.body(), {**refusal.headers(), "type": "smoe.decision_autorisation_travail"}
    )
    publish_as(accounts, "smoe", key, refusal.body(), {})
    poll(ofii)
    reasons = sorted(m.headers["x-guichet-error-reason"] for m in filed(accounts))
    # Under the type header the key names, the sender header names the consulate: not the SMOE's account.
    assert reasons == ["misaddressed", "misaddressed", "wrong_account"]
    assert ofii.agency.register.state("D-1") == before


def test_the_publishing_account_is_the_one_the_broker_validated(accounts, agencies):  # noqa: F811
    ofii = agencies.runner("ofii")
    envelope = deposit()
    # Without user_id the account cannot be told: refused. With another account's, the broker refuses.
    publish_as(accounts, "employeur", DEPOSIT_KEY, envelope.body(), envelope.headers(), user_id=None)
    with pytest.raises(amqp.exceptions.PreconditionFailed):
        publish_as(
            accounts, "employeur", DEPOSIT_KEY, envelope.body(), envelope.headers(), user_id=accounts.user("ofii")
        )
    poll(ofii)
    [refused] = filed(accounts)
    assert refused.headers["x-guichet-error-reason"] == "wrong_account"
    assert ofii.agency.register.dossier_ids() == set()
    publish_as(accounts, "employeur", DEPOSIT_KEY, envelope.body(), envelope.headers())
    poll(ofii)
    assert ofii.agency.register.dossier_ids() == {"D-1"}, "the portal's own account speaks for the employer"


def test_a_ten_megabyte_envelope_is_refused_before_it_is_read(accounts, agencies):  # noqa: F811
    ofii = agencies.runner("ofii")
    raw = json.loads(deposit().body())
    raw["facts"] = {"padding": "x" * 10_000_000}
    publish_as(accounts, "employeur", DEPOSIT_KEY, json.dumps(raw).encode(), deposit().headers())
    poll(ofii)
    [refused] = filed(accounts)
    assert refused.headers["x-guichet-error-reason"] == "too_large"
    assert "limit of 262144 bytes" in refused.headers["x-guichet-error-message"]
    assert ofii.agency.register.dossier_ids() == set()


def hostile_bodies() -> dict[str, tuple[bytes, str]]:
    """Bodies a connector may send under the deposit's own key, each with the reason it is refused."""
    body = deposit().body()
    raw = json.loads(body)
    return {
        "nesting": (body[:-1] + b', "facts": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "out_of_bounds"),
        "path": (json.dumps({**raw, "dossier_id": "../../etc/passwd"}).encode(), "invalid_payload"),
        "log_line": (json.dumps({**raw, "dossier_id": 'D-1\n{"level": "info"}'}).encode(), "invalid_payload"),
        "markup": (json.dumps({**raw, "dossier_id": "<svg onload=alert(1)>"}).encode(), "invalid_payload"),
        "key_id": (json.dumps({**raw, "key_id": "k" * 100_000}).encode(), "invalid_payload"),
    }


def test_hostile_bodies_are_refused_at_once_never_retried_as_handler_faults(accounts, agencies):  # noqa: F811
    ofii = agencies.runner("ofii")
    bodies = hostile_bodies()
    headers = {k: v for k, v in deposit().headers().items() if k != "dossier_id"}
    for body, _ in bodies.values():
        publish_as(accounts, "employeur", DEPOSIT_KEY, body, headers)
    poll(ofii)
    assert ofii.retried == 0, "nothing went to the wait queues"
    reasons = [m.headers["x-guichet-error-reason"] for m in filed(accounts)]
    assert sorted(reasons) == sorted(reason for _, reason in bodies.values())
    assert ofii.agency.register.dossier_ids() == set()
