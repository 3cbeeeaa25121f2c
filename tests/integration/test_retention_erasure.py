"""`guichet dossier export|erase` and `guichet retention run` over registers a simulation made, the
real RabbitMQ (error queue and archive) and a supervision store (docs/retention.md).

After an erasure, the erased worker's surname is found nowhere: not in the raw bytes of any file of
the data folder (SQLite keeps deleted rows in free pages unless they are overwritten), not in any
queue of the bus, not in the store's tables or its file; every journal still verifies (`guichet
journal verify`); `dossier export` gave the data before and gives nothing personal after (RGPD art.
15 and 17). The other worker's data stays where it was."""

import json
import subprocess
import sys
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from guichet.bus import Bus
from guichet.topology import Topology
from guichet_operations.supervision.ingest import Ingestion
from guichet_operations.supervision.store import Store
from services.parties import PARTIES
from tests.conftest import delete_namespace, dossier
from tests.integration.test_supervision_store import copy, description, record

pytestmark = pytest.mark.broker

ERASED, KEPT = "ZYGMUNTOWICZ", "KOWALCZYKOWA"


def guichet(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", *args], capture_output=True, text=True, timeout=180, check=False
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


@pytest.fixture
def data_dir(tmp_path):
    """Two dossiers carried to their end by the four agencies, each worker with a name of their own."""
    scenario = {
        "regime": "circulaire-2012",
        "dossiers": [
            dossier(id="RGPD-1", worker={"surname": ERASED, "given_names": "Wiesława"}),
            dossier(id="RGPD-2", worker={"surname": KEPT, "given_names": "Bożena"}),
        ],
    }
    (tmp_path / "scenario.json").write_text(json.dumps(scenario))
    folder = tmp_path / "data"
    guichet("simulate", "--scenario", str(tmp_path / "scenario.json"), "--data-dir", str(folder), "--json")
    return folder


@pytest.fixture
def bus(amqp_url, namespace):
    made = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
    made.declare()
    yield made
    made.close()
    delete_namespace(amqp_url, namespace)


def failed_message(dossier_id: str, surname: str) -> tuple[bytes, dict]:
    body = json.dumps({"dossier_id": dossier_id, "payload": {"worker": {"surname": surname}}}).encode()
    headers = {
        "dossier_id": dossier_id,
        "x-guichet-error-reason": "handler_error",
        "x-guichet-error-message_id": surname,
    }
    return body, headers


def file_failures(bus: Bus) -> None:
    """Each dossier's failed message in the error queue, and one in the archive (guichet/topology.py)."""
    for dossier_id, surname in (("RGPD-1", ERASED), ("RGPD-2", KEPT)):
        body, headers = failed_message(dossier_id, surname)
        bus.publish(body, "ofii.x", headers, f"{dossier_id}-e", exchange=bus.topology.errors_exchange)
        archived = headers | {"x-guichet-archived-at": datetime.now(UTC).isoformat()}
        bus.publish(body, "", archived, f"{dossier_id}-a", exchange=bus.topology.archive_exchange)


def on_the_broker(bus: Bus, text: str) -> list[str]:
    """Every queue of the bus one of whose messages (body or headers) holds `text`; all are put back."""
    found = []
    channel = bus.consuming.channel()
    try:
        for queue in bus.topology.queues():
            bound = queue(channel)
            while (message := bound.get(no_ack=False, accept=None)) is not None:
                body = message.body if isinstance(message.body, bytes) else str(message.body).encode()
                if text.encode() in body or text in json.dumps(dict(message.headers or {}), default=str):
                    found.append(queue.name)
    finally:
        channel.close()
    return sorted(set(found))


def queue_depth(bus: Bus, owner: str) -> int:
    channel = bus.consuming.channel()
    try:
        name = bus.topology.queue_name(owner)
        return int(channel.queue_declare(name, passive=True).message_count)
    finally:
        channel.close()


def store_with_both(path) -> Store:
    store = Store(f"sqlite:///{path}")
    ingest = Ingestion(store)
    described = [description(d) | {"personal": {"surname": s}} for d, s in (("RGPD-1", ERASED), ("RGPD-2", KEPT))]
    ingest.audit_copy(copy("ofii", 2, [record(1, "RGPD-1"), record(2, "RGPD-2")], dossiers=described), "ofii")
    for dossier_id, surname in (("RGPD-1", ERASED), ("RGPD-2", KEPT)):
        body, headers = failed_message(dossier_id, surname)
        ingest.failure(SimpleNamespace(body=body, headers=headers, properties={}, delivery_info={"routing_key": "x"}))
    return store


def in_files(folder, text: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and text.encode() in p.read_bytes())


def in_store(store: Store, text: str) -> list[str]:
    tables = [r["name"] for r in store.rows("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return [t for t in tables if text in str(store.rows(f"SELECT * FROM {t}"))]


def places(data_dir, bus: Bus, store_path) -> list[str]:
    return ["--data-dir", str(data_dir), "--broker", bus.url, "--namespace", bus.topology.namespace] + [
        "--store",
        f"sqlite:///{store_path}",
    ]


def journals_verify(data_dir) -> None:
    result = guichet("journal", "verify", "--data-dir", str(data_dir))
    assert result.stdout.count("chain intact") == 4, result.stdout


def test_an_erasure_decision_leaves_the_worker_nowhere_and_every_journal_verifying(data_dir, bus, tmp_path):
    file_failures(bus)
    store_path = tmp_path / "supervision.sqlite3"
    store_with_both(store_path).close()
    store_url = f"sqlite:///{store_path}"

    # RGPD art. 15: the access request's export holds the worker's data, from the registers and the store.
    before = json.loads(
        guichet("dossier", "export", "RGPD-1", "--data-dir", str(data_dir), "--store", store_url).stdout
    )
    assert before["places"] == ["ofii", "smoe", "consulat", "prefecture", "supervision"]
    assert ERASED in json.dumps(before, ensure_ascii=False)
    assert in_files(data_dir, ERASED) and on_the_broker(bus, ERASED)

    # RGPD art. 17: the decision, journaled with its reason and who took it.
    reason = "décision de la DT-OFII du 2 mars 2026, demande n° 2026-17"
    erased = guichet(
        "dossier", "erase", "RGPD-1", "--reason", reason, "--by", "dpo", "--json", *places(data_dir, bus, store_path)
    )
    report = json.loads(erased.stdout)
    assert report["broker"] == {"erreurs": 1, "erreurs.archive": 1} and report["store"] == {"dossiers": 1}

    assert in_files(data_dir, ERASED) == []
    assert in_files(data_dir, "Wiesława") == []
    assert on_the_broker(bus, ERASED) == []
    store = Store(store_url)
    try:
        assert in_store(store, ERASED) == []
        assert store.rows("SELECT person, action, target, detail FROM actions") == [
            {"person": "dpo", "action": "dossier.erase", "target": "RGPD-1", "detail": reason}
        ]
        assert in_store(store, KEPT) != [], "the other dossier stays in the store"
    finally:
        store.close()
    assert ERASED.encode() not in store_path.read_bytes()
    journals_verify(data_dir)

    # The other worker's dossier is untouched, on the broker as in the registers.
    assert on_the_broker(bus, KEPT) == [bus.topology.queue_name("erreurs"), bus.topology.queue_name("erreurs.archive")]
    assert set(in_files(data_dir, KEPT)) == {"ofii.sqlite3", "smoe.sqlite3", "consulat.sqlite3", "prefecture.sqlite3"}

    after = json.loads(guichet("dossier", "export", "RGPD-1", "--data-dir", str(data_dir), "--store", store_url).stdout)
    assert ERASED not in json.dumps(after, ensure_ascii=False)
    assert after["registers"]["ofii"]["state"] is None
    assert after["registers"]["ofii"]["erasure"]["reason"] == reason
    assert after["registers"]["ofii"]["journal"], "the journal's records (ids, hashes) stay"
    proof = guichet("dossier", "proof", "RGPD-1", "--data-dir", str(data_dir)).stdout
    assert ERASED not in proof and '"erasure_reason"' in proof, "the dossier's proof: its records, messages erased"


def test_an_erasure_decision_needs_a_reason():
    refused = guichet("dossier", "erase", "RGPD-1", "--reason", "  ", check=False)
    assert refused.returncode == 2 and "--reason" in refused.stderr


def test_a_retention_run_erases_what_its_period_let_go_and_nothing_before(data_dir, bus, tmp_path):
    file_failures(bus)
    store_path = tmp_path / "supervision.sqlite3"
    store_with_both(store_path).close()
    periods = tmp_path / "periods.json"

    # docs/retention.md: a closed dossier is kept closed_days after its last change (365 by default).
    kept = json.loads(
        guichet(
            "retention", "run", "--json", "--now", "2026-09-01T00:00:00+00:00", *places(data_dir, bus, store_path)
        ).stdout
    )
    assert kept["dossiers"] == [] and in_files(data_dir, ERASED) and on_the_broker(bus, ERASED)

    periods.write_text(json.dumps({"closed_days": 30}))
    run = guichet(
        "retention",
        "run",
        "--json",
        "--periods",
        str(periods),
        "--now",
        "2026-09-01T00:00:00+00:00",
        *places(data_dir, bus, store_path),
    )
    report = json.loads(run.stdout)
    assert report["dossiers"] == ["RGPD-1", "RGPD-2"] and "past the 30 days" in report["why"]["RGPD-1"]
    for surname in (ERASED, KEPT):
        assert in_files(data_dir, surname) == []
        assert on_the_broker(bus, surname) == []
    assert queue_depth(bus, "erreurs") == 0 and queue_depth(bus, "erreurs.archive") == 0
    store = Store(f"sqlite:///{store_path}")
    try:
        assert in_store(store, ERASED) == [] and in_store(store, KEPT) == []
    finally:
        store.close()
    journals_verify(data_dir)

    again = json.loads(
        guichet(
            "retention",
            "run",
            "--json",
            "--periods",
            str(periods),
            "--now",
            "2026-09-01T00:00:00+00:00",
            *places(data_dir, bus, store_path),
        ).stdout
    )
    assert again["dossiers"] == [], "an erased dossier is not due again"


def test_a_periods_file_with_an_unknown_period_is_refused_naming_it(tmp_path):
    periods = tmp_path / "periods.json"
    periods.write_text(json.dumps({"closed_day": 30}))
    refused = guichet("retention", "run", "--periods", str(periods), "--data-dir", str(tmp_path), check=False)
    assert refused.returncode == 2 and "closed_day" in refused.stderr
    periods.write_text(json.dumps({"closed_days": 0}))
    refused = guichet("retention", "run", "--periods", str(periods), "--data-dir", str(tmp_path), check=False)
    assert refused.returncode == 2 and "closed_days" in refused.stderr


def test_an_erasure_of_an_id_no_register_knows_is_refused_and_records_nothing(data_dir):
    """A mistyped id recorded as erased would refuse any later dossier of that id (docs/retention.md)."""
    refused = guichet(
        "dossier", "erase", "RGPD-9", "--reason", "demande n° 17", "--data-dir", str(data_dir), check=False
    )
    assert refused.returncode == 2 and "in none of the registers" in refused.stderr
    export = json.loads(guichet("dossier", "export", "RGPD-1", "--data-dir", str(data_dir)).stdout)
    assert export["registers"]["ofii"]["erasure"] is None


def test_the_archive_keeps_a_message_for_archive_days_from_its_archiving_and_no_longer(bus):
    """docs/retention.md, `archive_days`: counted from `x-guichet-archived-at`; the error queue itself
    loses nothing by a period (it is the operators' list of what to act on)."""
    from datetime import timedelta

    from guichet_operations.error_queue_erasure import sweep

    now = datetime.now(UTC)
    for name, at in (("old", now - timedelta(days=400)), ("recent", now - timedelta(days=10))):
        body, headers = failed_message(f"ARCH-{name}", name)
        archived = headers | {"x-guichet-archived-at": at.isoformat()}
        bus.publish(body, "", archived, name, exchange=bus.topology.archive_exchange)
    body, headers = failed_message("ARCH-error", "waiting")
    bus.publish(body, "ofii.x", headers, "waiting", exchange=bus.topology.errors_exchange)

    swept = sweep(bus, set(), archived_before=now - timedelta(days=365))
    assert swept.as_dict() == {"erreurs": 0, "erreurs.archive": 1}
    assert on_the_broker(bus, '"old"') == [] and on_the_broker(bus, '"recent"') != []
    assert queue_depth(bus, "erreurs") == 1
