"""docker-compose.cluster.yml (the `cluster` profile) agrees with the real `guichet` command line and
with its nodes' peer-discovery file: three nodes, each agency given the three URLs and quorum queues."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from schemas.base import AGENCIES
from tests.unit.test_docker_compose import parse

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = yaml.safe_load((ROOT / "docker-compose.cluster.yml").read_text(encoding="utf-8"))
SERVICES = CLUSTER["services"]
NODES = ("rabbitmq", "rabbit-2", "rabbit-3")


def test_three_nodes_share_a_cookie_from_a_file_and_find_each_other_by_name():
    conf = (ROOT / "deploy" / "rabbitmq-cluster.conf").read_text()
    listed = re.findall(r"classic_config\.nodes\.\d+ = rabbit@(\S+)", conf)
    assert sorted(listed) == sorted(NODES)
    start = (ROOT / "deploy" / "rabbitmq" / "start.sh").read_text()
    assert '-m 400 "$secrets/erlang.cookie" "$home/.erlang.cookie"' in start
    for node in NODES:
        service = SERVICES[node]
        assert service["hostname"] == node
        assert "./deploy/rabbitmq-cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro" in service["volumes"]
        assert "setcookie" not in str(service) and "ERLANG_COOKIE" not in str(service), "no cookie on a command line"
        assert service["entrypoint"] == ["sh", "/etc/guichet/start.sh"]
    for node in NODES[1:]:
        assert SERVICES[node]["profiles"] == ["cluster"]
        assert any(v.endswith(":/var/lib/rabbitmq") for v in SERVICES[node]["volumes"])
        assert "rabbitmq-secrets:/run/guichet/rabbitmq:ro" in SERVICES[node]["volumes"]
        assert all(p.startswith("${GUICHET_BIND_ADDRESS:-127.0.0.1}:") for p in SERVICES[node]["ports"])


@pytest.mark.parametrize("agency", AGENCIES)
def test_each_agency_is_given_the_three_nodes_and_quorum_queues(agency):
    service = SERVICES[agency]
    args = parse(service["command"])
    assert (args.command, args.agency, args.queue_type) == ("run", agency, "quorum")
    urls = [urlsplit(url) for url in args.broker.split(";")]
    assert sorted(u.hostname for u in urls) == sorted(NODES)
    assert {(u.scheme, u.port) for u in urls} == {("amqps", 5671)}
    assert set(service["depends_on"]) >= set(NODES)


def test_setup_waits_for_the_three_nodes_and_keeps_its_command():
    assert "command" not in SERVICES["broker-setup"], "docker-compose.yml's, quorum queues included"
    assert set(SERVICES["broker-setup"]["depends_on"]) == set(NODES)


@pytest.mark.parametrize("agency", AGENCIES)
def test_each_agency_keeps_the_signing_keys_simulated_actors_and_status_address(agency):
    args = parse(SERVICES[agency]["command"])
    assert args.simulated_actors and args.http_host == "0.0.0.0"
    assert "environment" not in SERVICES[agency], "the signing variables of docker-compose.yml stay"
    assert "keys-setup" in SERVICES[agency]["depends_on"]
