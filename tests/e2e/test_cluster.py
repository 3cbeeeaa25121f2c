"""A three-node RabbitMQ cluster loses a node and the bus loses nothing.

The four services run with the three nodes' URLs and `--queue-type quorum`; 50 dossiers are filed,
then a node is killed with SIGKILL: first the node the services are connected to, then (in a new
namespace) the node that declared the topology. During each outage the services consume again
within seconds, messages filed to the error queue meanwhile are all there, and afterwards every
dossier has the outcome the same scenario reaches undisturbed, with no step doubled.
Run with `pytest -m cluster` (the nodes take a while to start: about a minute for the module).
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from collections import Counter
from datetime import datetime

import pytest

from guichet.bus import Bus
from guichet.clock import ScaledClock
from guichet.topology import Topology
from guichet_operations.error_queue import ErrorQueue, Selection
from guichet_simulation.chaos import _duplicates, _outcomes, chaos_scenario
from guichet_simulation.harness import Simulation
from schemas.base import AGENCIES
from services.intake import filing
from services.parties import PARTIES
from tests.cluster import Cluster
from tests.conftest import DIRECTORY, wait_until
from tests.services import guichet, running_services

pytestmark = pytest.mark.cluster

TIME_SCALE = 200_000  # a legal day in 0.43 s: the slowest dossier of the scenario in about 40 s
DOSSIERS = 50
FAILOVER_LIMIT_SECONDS = 30
QUORUM = {a: ["--queue-type", "quorum"] for a in AGENCIES}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    nodes = Cluster(tmp_path_factory.mktemp("rabbit-cluster"))
    try:
        yield nodes.start()
    finally:
        nodes.stop()


@pytest.fixture(scope="module")
def expected():
    scenario = chaos_scenario(DOSSIERS)
    reference = Simulation(scenario).run()
    return (
        scenario,
        {d["id"]: d["outcome"] for d in reference["dossiers"]},
        {d["id"]: Counter(s["step"] for s in d["steps"]) for d in reference["dossiers"]},
    )


def file_dossiers(url: str, namespace: str, scenario, origin: datetime) -> None:
    clock = ScaledClock(TIME_SCALE, origin)
    bus = Bus(url, Topology(PARTIES, namespace=namespace, queue_type="quorum"))
    try:
        bus.declare()
        for dossier in scenario.dossiers:
            envelope = filing(dossier.id, dossier, scenario.regime, clock.now(), DIRECTORY)
            bus.publish(envelope.body().decode(), envelope.routing_key, envelope.headers(), str(envelope.message_id))
    finally:
        bus.close()


def send_undecodable(url: str, namespace: str, per_agency: int) -> dict[str, list[str]]:
    """Messages no agency can read, a few to each: each must reach the error queue, with its AMQP
    id, and only a service that consumes again can file it there."""
    ids = {a: [f"broken-{a}-{uuid.uuid4().hex[:8]}" for _ in range(per_agency)] for a in AGENCIES}
    bus = Bus(url, Topology(PARTIES, namespace=namespace, queue_type="quorum"))
    try:
        bus.connect()
        for agency, messages in ids.items():
            for message_id in messages:
                bus.publish(b"\xff\xfe not json", f"{agency}.ofii.sonde", {}, message_id)
    finally:
        bus.close()
    return ids


def error_ids(url: str, namespace: str) -> list[str]:
    listed = subprocess.run(
        guichet("errors", "list", "--broker", url, "--namespace", namespace, "--queue-type", "quorum", "--json"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    return [m["id"] for m in json.loads(listed.stdout)["messages"]]


def log_sizes(workdir) -> dict[str, int]:
    return {a: (workdir / f"{a}.log").stat().st_size for a in AGENCIES}


def consuming_again(workdir, since: dict[str, int]) -> dict[str, str]:
    """The services that logged, since the given offsets, that they consume again after a loss, and
    the node each now uses."""
    again = {}
    for agency in AGENCIES:
        with open(workdir / f"{agency}.log", "rb") as log:
            log.seek(since[agency])
            for line in log.read().decode().splitlines():
                if "consuming again" in line:
                    again[agency] = json.loads(line)["node"]
    return again


def queued_error_ids(url: str, namespace: str) -> set[str]:
    bus = Bus(url, Topology(PARTIES, namespace=namespace, queue_type="quorum"))
    try:
        bus.connect()
        return {e.id for e in ErrorQueue(bus).browse(Selection())}
    finally:
        bus.close()


def lose_a_node(cluster, expected, tmp_path, url: str, namespace: str, pick) -> dict[str, float]:
    scenario, outcomes, steps = expected
    with running_services(url, namespace, tmp_path, TIME_SCALE, extra=QUORUM) as services:
        # the filings share the services' compressed clock
        origin = datetime.fromisoformat(services["clock"][services["clock"].index("--clock-origin") + 1])
        file_dossiers(url, namespace, scenario, origin)
        data = services["data"]
        wait_until(lambda: any(_outcomes(data).values()), 120, "a first dossier at its outcome: the flow under way")
        victim = pick()
        before = log_sizes(tmp_path)
        killed_at = time.monotonic()
        victim.kill()
        survivor = cluster.running()[0]
        broken = send_undecodable(survivor.url, namespace, 2)
        filed: dict[str, float] = {}

        def every_service_filed_its_own():
            queued = queued_error_ids(survivor.url, namespace)
            for agency, ids in broken.items():
                if agency not in filed and set(ids) <= queued:
                    filed[agency] = time.monotonic() - killed_at
            return len(filed) == len(AGENCIES)

        wait_until(
            every_service_filed_its_own,
            FAILOVER_LIMIT_SECONDS,
            "every service consuming again: the messages sent to each during the outage in the error queue",
        )
        again = consuming_again(tmp_path, before)
        assert set(again) == set(AGENCIES), again
        assert all(f":{victim.port}/" not in node for node in again.values()), again

        def all_done():
            got = _outcomes(data)
            return all(got.get(d) == o for d, o in outcomes.items())

        wait_until(all_done, 300, "every dossier at its undisturbed outcome")
        assert _duplicates(data, steps) == []
        ids = error_ids(survivor.url, namespace)
        sent = sorted(i for batch in broken.values() for i in batch)
        assert sorted(i for i in ids if i.startswith("broken-")) == sent, ids  # all there, none twice
        for agency, proc in services["procs"].items():
            assert proc.poll() is None, (tmp_path / f"{agency}.log").read_text()[-2000:]
        restarted_at = time.monotonic()
        victim.start()
        victim.wait_started()
        recovery = time.monotonic() - restarted_at
    slowest = max(filed.values())
    print(
        f"\n{namespace}: killed {victim.name}; each service filed what it was sent during the outage after "
        f"{', '.join(f'{a} {t:.1f} s' for a, t in filed.items())}; node restarted and back in the cluster "
        f"in {recovery:.1f} s"
    )
    return {"failover": slowest, "recovery": recovery}


def test_the_node_the_services_use_dies_and_nothing_is_lost(cluster, expected, tmp_path):
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    times = lose_a_node(cluster, expected, tmp_path, cluster.url, namespace, lambda: cluster.connected_node())
    assert times["failover"] < FAILOVER_LIMIT_SECONDS


def test_the_node_that_declared_the_topology_dies_and_nothing_is_lost(cluster, expected, tmp_path):
    namespace = f"test-{uuid.uuid4().hex[:10]}"
    declarer = cluster.nodes[1]
    # The topology is declared through this node alone; the services then start with it first.
    bus = Bus(declarer.url, Topology(PARTIES, namespace=namespace, queue_type="quorum"))
    try:
        assert bus.declare() == {}
    finally:
        bus.close()
    order = [declarer, *(n for n in cluster.nodes if n is not declarer)]
    url = ";".join(n.url for n in order)
    times = lose_a_node(cluster, expected, tmp_path, url, namespace, lambda: declarer)
    assert times["failover"] < FAILOVER_LIMIT_SECONDS
