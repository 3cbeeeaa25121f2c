"""A real Prometheus, configured from deploy/prometheus, scrapes the four services and RabbitMQ: after a
known number of dossiers, its query API returns what each agency's journal says it handled, the
alert rules load, and every dashboard query runs."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from guichet.register_reader import read_states
from schemas.base import AGENCIES
from tests.conftest import dossier, wait_until
from tests.monitoring import Prometheus, free_port, handled_in_journal
from tests.services import guichet, running_services

pytestmark = pytest.mark.broker

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
TIME_SCALE = 400_000
DOSSIERS = 4
RABBITMQ_PROMETHEUS = "127.0.0.1:15692"  # rabbitmq_prometheus, enabled by .ci/run


def local_config(ports: dict[str, int], tmp_path: Path, namespace: str) -> Path:
    """deploy/prometheus/prometheus.yml with this machine's addresses, this bus's namespace and a
    one-second scrape."""
    config = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    config["global"].update(scrape_interval="1s", evaluation_interval="1s")
    config["rule_files"] = [str(DEPLOY / "prometheus" / rule) for rule in config["rule_files"]]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    (static,) = jobs["guichet"]["static_configs"]
    assert static["labels"] == {"namespace": "guichet"}, "the services are labelled with the bus's namespace"
    jobs["guichet"]["static_configs"] = [
        {"targets": [f"127.0.0.1:{ports[a]}" for a in AGENCIES], "labels": {"namespace": namespace}}
    ]
    jobs["rabbitmq"]["static_configs"] = [{"targets": [RABBITMQ_PROMETHEUS]}]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def test_prometheus_scrapes_the_four_services_and_counts_what_their_journals_record(amqp_url, namespace, tmp_path):
    ports = {agency: free_port() for agency in AGENCIES}
    with running_services(
        amqp_url, namespace, tmp_path, TIME_SCALE, extra={a: ["--http-port", str(p)] for a, p in ports.items()}
    ) as bus:
        prometheus = Prometheus(local_config(ports, tmp_path, namespace), tmp_path)
        try:
            prometheus.wait_ready()
            data = bus["data"]
            scenario = tmp_path / "scenario.json"
            scenario.write_text(json.dumps({"dossiers": [dossier(id="P")]}))
            subprocess.run(
                guichet("submit", str(scenario), *bus["bus"], "--repeat", str(DOSSIERS), *bus["clock"]),
                check=True,
                capture_output=True,
                timeout=60,
            )
            wait_until(
                lambda: [s.get("outcome") for s in read_states("ofii", data).values()] == ["titre_remis"] * DOSSIERS,
                120,
                f"{DOSSIERS} dossiers at titre_remis",
            )

            for agency in AGENCIES:
                query = f'sum(guichet_messages_consumed_total{{agency="{agency}",outcome="handled"}})'
                # Reminders of deadlines still to come may arrive: wait for the scrape and the journal to agree.
                wait_until(
                    lambda query=query, agency=agency: prometheus.value(query) == handled_in_journal(agency, data) > 0,
                    60,
                    f"Prometheus's {query} to equal {agency}'s journal ({handled_in_journal(agency, data)})",
                )
            assert prometheus.value('count(up{job="guichet"} == 1)') == len(AGENCIES)
            assert prometheus.value("min(guichet_ready)") == 1
            assert prometheus.value('sum(guichet_messages_published_total{agency="ofii"})') > 0
            assert prometheus.value('sum(guichet_handler_seconds_count{agency="smoe"})') > 0
            # The error queue's metric, as the alert reads it from RabbitMQ's per-object endpoint: there, and empty.
            wait_until(
                lambda: prometheus.value(f'rabbitmq_queue_messages_ready{{queue="{namespace}.erreurs"}}') == 0,
                30,
                f"RabbitMQ's rabbitmq_queue_messages_ready for {namespace}.erreurs",
            )

            rules = [r for g in prometheus.api("rules")["groups"] for r in g["rules"]]
            written = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"]
            assert len(rules) == sum(len(g["rules"]) for g in written) >= 17, rules
            assert all(r["health"] == "ok" for r in rules), rules
            # Other tests share this RabbitMQ: only this bus's queues and services concern this test.
            failures = {
                "GuichetErrorQueueNotEmpty",
                "GuichetMessagesSentToErrorQueue",
                "GuichetServiceDown",
                "GuichetServiceNotReady",
                "GuichetQueueWithoutConsumer",
                "GuichetRegisterDown",
            }
            ours = [
                a["labels"]
                for a in prometheus.api("alerts")["alerts"]
                if a["labels"]["alertname"] in failures
                and (a["labels"].get("queue", "").startswith(f"{namespace}.") or "queue" not in a["labels"])
            ]
            assert ours == [], ours

            dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "guichet.json").read_text())
            variables = {"$namespace": namespace, "$agency": "|".join(AGENCIES)}  # "All", as Grafana writes it
            answers = {}
            for panel in dashboard["panels"]:
                for target in panel["targets"]:
                    expr = target["expr"]
                    for name, chosen in variables.items():
                        expr = expr.replace(name, chosen)
                    # each panel's query parses and runs on this bus's series
                    answers[(panel["title"], target["refId"])] = prometheus.api("query", query=expr)["result"]
            consumers = {r["metric"]["queue"]: float(r["value"][1]) for r in answers[("Queues: consumers", "A")]}
            assert set(consumers) == {f"{namespace}.{a}" for a in AGENCIES} and min(consumers.values()) >= 1
            ready = {r["metric"]["agency"] for r in answers[("Outbox due and not published; readiness", "B")]}
            assert ready == set(AGENCIES), "the dashboard's variables select this bus's four services"
            # The throughput panel's counter is there for the four agencies together (a rate over the last
            # minute would depend on when the flow ended, not on what was counted).
            total = 'sum(guichet_messages_consumed_total{outcome="handled"})'
            wait_until(
                lambda: prometheus.value(total) == sum(handled_in_journal(a, data) for a in AGENCIES) > 0,
                60,
                f"Prometheus's {total} to equal the four journals together",
            )
        finally:
            prometheus.stop()
