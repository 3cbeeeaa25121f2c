"""docker-compose.yml has no default secret: secrets-setup makes them before anything starts, each
goes to the volume of the one service that reads it; the broker has no `guest` and speaks TLS only,
PostgreSQL too over the network; every service has limits and rotating logs."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from schemas.base import AGENCIES

ROOT = Path(__file__).resolve().parents[2]
TEXT = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load(TEXT)
SERVICES = COMPOSE["services"]
CLIENTS = (*AGENCIES, "supervision")


def mounts(service: str) -> dict[str, str]:
    return {v.split(":")[1]: v.split(":")[0] for v in SERVICES[service].get("volumes", [])}


def test_no_password_is_a_default_value():
    config = yaml.safe_dump(SERVICES)  # what compose runs, without the comments
    for default in ("guest", "guichet-superuser", "GRAFANA_ADMIN_PASSWORD", "POSTGRES_PASSWORD", "setcookie"):
        assert default not in config, default
    assert "POSTGRES_PASSWORD" not in str(SERVICES["postgres"].get("environment"))
    grafana = SERVICES["grafana"]["environment"]
    assert grafana == {"GF_SECURITY_ADMIN_PASSWORD__FILE": "/run/guichet/grafana/admin-password"}


def test_secrets_setup_runs_first_and_gives_each_reader_a_volume_of_its_own():
    setup = SERVICES["secrets-setup"]
    assert setup["command"] == ["python", "/setup/stack-secrets.py"] and setup["restart"] == "no"
    made = mounts("secrets-setup")
    assert made["/setup"] == "./deploy/secrets" and (ROOT / "deploy" / "secrets" / "stack-secrets.py").is_file()
    for service in ("rabbitmq", "postgres", "grafana"):
        assert SERVICES[service]["depends_on"]["secrets-setup"]["condition"] == "service_completed_successfully"
    # The authority's key is mounted nowhere else.
    assert [s for s in SERVICES if "stack-ca" in mounts(s).values()] == ["secrets-setup"]
    for client in CLIENTS:
        volume = f"tls-{client}"
        assert made[f"/stack-secrets/{volume}"] == volume
        readers = {s for s in SERVICES if volume in mounts(s).values()} - {"secrets-setup"}
        assert readers <= {client, "console-setup"}, (volume, readers)
        assert mounts(client)["/run/guichet/tls"] == volume
    assert {s for s in SERVICES if "broker-admin" in mounts(s).values()} == {
        "secrets-setup",
        "rabbitmq",
        "broker-setup",
    }
    assert {s for s in SERVICES if "postgres-admin" in mounts(s).values()} == {
        "secrets-setup",
        "postgres",
        "register-setup",
    }


def test_the_broker_has_an_administrator_of_its_own_and_tls_alone():
    start = (ROOT / "deploy" / "rabbitmq" / "start.sh").read_text(encoding="utf-8")
    assert "default_user = guichet-admin" in start and 'default_pass = $(cat "$admin/password")' in start
    assert "listeners.tcp = none" in start and "listeners.ssl.default = 5671" in start
    assert "ssl_options.verify = verify_peer" in start and "ssl_options.fail_if_no_peer_cert = true" in start
    assert SERVICES["rabbitmq"]["entrypoint"] == ["sh", "/etc/guichet/start.sh"]
    assert mounts("rabbitmq")["/etc/guichet"] == "./deploy/rabbitmq"
    setup = (ROOT / "deploy" / "rabbitmq" / "broker-setup.sh").read_text(encoding="utf-8")
    assert "/api/users/guest" in setup and 'method="DELETE"' in setup


def test_postgres_speaks_tls_alone_over_the_network_and_every_client_verifies_it():
    start = (ROOT / "deploy" / "postgres" / "start.sh").read_text(encoding="utf-8")
    assert "-c ssl=on" in start and "hba_file=/etc/guichet/pg_hba.conf" in start
    rules = [
        line.split()
        for line in (ROOT / "deploy" / "postgres" / "pg_hba.conf").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {r[0] for r in rules} == {"local", "hostssl"}, "no `host` line: no connection without TLS"
    assert ["local", "all", "postgres", "peer"] in rules
    for client in (*CLIENTS, "console-setup"):
        env = SERVICES[client]["environment"]
        assert (env["PGSSLMODE"], env["PGSSLROOTCERT"]) == ("verify-full", "/run/guichet/tls/ca.crt"), client
    setup = (ROOT / "deploy" / "postgres" / "register-setup.sh").read_text(encoding="utf-8")
    assert "PGSSLMODE=verify-full" in setup


@pytest.mark.parametrize("client", CLIENTS)
def test_every_client_of_the_broker_shows_its_own_certificate(client):
    env = SERVICES[client]["environment"]
    assert env["GUICHET_TLS_CA"] == "/run/guichet/tls/ca.crt"
    assert (env["GUICHET_TLS_CERT"], env["GUICHET_TLS_KEY"]) == (
        "/run/guichet/tls/client.crt",
        "/run/guichet/tls/client.key",
    )
    assert re.search(r"amqps://rabbitmq:5671//", " ".join(SERVICES[client]["command"]))


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_has_limits_and_rotating_logs(service):
    config = SERVICES[service]
    assert config["logging"]["driver"] == "json-file"
    assert set(config["logging"]["options"]) == {"max-size", "max-file"}
    assert config["mem_limit"] and config["cpus"], service


def test_backup_and_restore_scripts_cover_the_registers_and_the_supervision_store():
    for name in ("stack-backup", "stack-restore"):
        script = (ROOT / "scripts" / name).read_text(encoding="utf-8")
        assert "DATABASES=(guichet supervision)" in script, name
    assert "pg_dump --format=custom" in (ROOT / "scripts" / "stack-backup").read_text(encoding="utf-8")
    assert "pg_restore --clean" in (ROOT / "scripts" / "stack-restore").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("script", "missing"),
    [
        ("deploy/rabbitmq/start.sh", "/run/guichet/rabbitmq/erlang.cookie"),
        ("deploy/postgres/start.sh", "/run/guichet/postgres/server.crt"),
        ("deploy/rabbitmq/broker-setup.sh", "/run/guichet/broker-admin/password"),
        ("deploy/postgres/register-setup.sh", "/run/guichet/postgres-admin/superuser-password"),
    ],
)
def test_without_the_generated_secrets_a_service_stops_naming_what_is_missing(script, missing):
    if Path("/run/guichet").exists():
        pytest.fail("/run/guichet exists on this machine: the test needs it absent")
    done = subprocess.run(
        ["sh", str(ROOT / script)], capture_output=True, text=True, timeout=30, env={"PATH": "/usr/bin:/bin"}
    )
    assert done.returncode == 1, done
    assert f"{missing} is missing: secrets-setup makes it" in done.stderr, done.stderr
