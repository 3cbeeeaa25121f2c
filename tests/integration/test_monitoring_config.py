"""The monitoring files under deploy/ as Prometheus reads them: promtool checks the configuration and
the alert rules, and runs the rules' own tests (each alert fires on the series that should raise it)."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from guichet.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
PROMETHEUS = DEPLOY / "prometheus"


def promtool(*args: str) -> subprocess.CompletedProcess:
    if shutil.which("promtool") is None:
        pytest.fail("promtool is missing: scripts/setup-monitoring installs it (Debian package prometheus)")
    return subprocess.run(["promtool", *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=60)


def test_prometheus_configuration_is_valid_and_scrapes_the_four_agencies_and_rabbitmq():
    checked = promtool("check", "config", "prometheus.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 1 rule files found" in checked.stdout + checked.stderr


def test_alert_rules_are_valid_and_fire_on_the_series_that_should_raise_them():
    checked = promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0 and "SUCCESS: 8 rules found" in checked.stdout, checked.stdout + checked.stderr
    tested = promtool("test", "rules", "alerts_test.yml")
    assert tested.returncode == 0 and "SUCCESS" in tested.stdout, tested.stdout + tested.stderr


def metric_names() -> set[str]:
    """Every series name a service exposes, with the histogram and counter suffixes."""
    names = {"guichet_outbox_pending", "guichet_deadline_tasks_open"}  # read from the register at scrape time
    for family in Metrics("ofii").registry.collect():
        names |= {family.name, f"{family.name}_total", f"{family.name}_bucket", f"{family.name}_count"}
    return names


def test_dashboard_and_alerts_name_only_metrics_the_services_expose():
    dashboard = json.loads((DEPLOY / "grafana" / "dashboards" / "guichet.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    exprs += re.findall(r"expr: (.+)", (PROMETHEUS / "alerts.yml").read_text())
    used = {name for expr in exprs for name in re.findall(r"\bguichet_[a-z_]+\b", expr)}
    assert used and used <= metric_names(), used - metric_names()
    titles = " ".join(p["title"].lower() for p in dashboard["panels"])
    for subject in ("handled per second", "handler time", "open tasks", "breaches", "error queue"):
        assert subject in titles


def test_grafana_provisions_the_datasource_the_dashboard_panels_use():
    import yaml

    grafana = DEPLOY / "grafana"
    sources = yaml.safe_load((grafana / "provisioning" / "datasources" / "prometheus.yml").read_text())["datasources"]
    providers = yaml.safe_load((grafana / "provisioning" / "dashboards" / "guichet.yml").read_text())["providers"]
    dashboard = json.loads((grafana / "dashboards" / "guichet.json").read_text())
    uids = {p["datasource"]["uid"] for p in dashboard["panels"]} | {
        t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]
    }
    assert uids == {s["uid"] for s in sources if s["type"] == "prometheus"}
    assert [s["url"] for s in sources] == ["http://prometheus:9090"]
    assert [p["options"]["path"] for p in providers] == ["/etc/grafana/dashboards"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
