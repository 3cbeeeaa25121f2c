"""docker-compose.cluster.yml (the `cluster` profile) agrees with the real `guichet` command line and
with its nodes' peer-discovery file: three nodes, each agency given the three URLs and quorum queues."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from schemas.base import AGENCIES
from tests.unit.test_docker_compose import parse, resolve

ROOT = Path(__file__).resolve().parents[2]
CLUSTER = yaml.safe_load((ROOT / "docker-compose.cluster.yml").read_text(encoding="utf-8"))
SERVICES = CLUSTER["services"]
NODES = ("rabbitmq", "rabbit-2", "rabbit-3")


def test_three_nodes_share_a_cookie_and_find_each_other_by_name():
    conf = (ROOT / "deploy" / "rabbitmq-cluster.conf").read_text()
    listed = re.findall(r"classic_config\.nodes\.\d+ = rabbit@(\S+)", conf)
    assert sorted(listed) == sorted(NODES)
    cookies = set()
    for node in NODES:
        service = SERVICES[node]
        assert service["hostname"] == node
        assert "./deploy/rabbitmq-cluster.conf:/etc/rabbitmq/conf.d/20-cluster.conf:ro" in service["volumes"]
        env = service["environment"]
        cookies.add(resolve(env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]))
        assert env["RABBITMQ_CTL_ERL_ARGS"] == env["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"]
    assert len(cookies) == 1 and cookies.pop().startswith("-setcookie ")
    for node in NODES[1:]:
        assert SERVICES[node]["profiles"] == ["cluster"]
        assert any(v.endswith(":/var/lib/rabbitmq") for v in SERVICES[node]["volumes"])


@pytest.mark.parametrize("agency", AGENCIES)
def test_each_agency_is_given_the_three_nodes_and_quorum_queues(agency):
    service = SERVICES[agency]
    args = parse(service["command"])
    assert (args.command, args.agency, args.queue_type) == ("run", agency, "quorum")
    hosts = [urlsplit(url).hostname for url in args.broker.split(";")]
    assert sorted(hosts) == sorted(NODES)
    assert set(service["depends_on"]) >= set(NODES)


def test_setup_declares_quorum_queues():
    args = parse(SERVICES["broker-setup"]["command"])
    assert (args.command, args.broker_command, args.queue_type) == ("broker", "setup", "quorum")


@pytest.mark.parametrize("agency", AGENCIES)
def test_each_agency_keeps_the_signing_keys_simulated_actors_and_status_address(agency):
    args = parse(SERVICES[agency]["command"])
    assert args.simulated_actors and args.http_host == "0.0.0.0"
    assert "environment" not in SERVICES[agency], "the signing variables of docker-compose.yml stay"
    assert "keys-setup" in SERVICES[agency]["depends_on"]
