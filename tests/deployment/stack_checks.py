"""What tests/deployment asserts about the stack's secrets and transports: no `guest` on the broker,
nothing published beyond 127.0.0.1, every agency on the broker and on PostgreSQL over TLS with its
own certificate, and a backup of the registers that survives the loss of PostgreSQL's volume."""

from __future__ import annotations

import subprocess
from urllib.error import HTTPError

import pytest

from schemas.base import AGENCIES
from tests.conftest import wait_until
from tests.deployment.stack import Stack

CLIENTS = (*AGENCIES, "supervision")


def assert_no_guest_on_the_broker(stack: Stack) -> None:
    users = {u["name"] for u in stack.management("users")}
    assert "guest" not in users and "guichet-admin" in users, users
    assert users >= set(CLIENTS), users
    with pytest.raises(HTTPError) as refused:
        stack.management("overview", user="guest", password="guest")
    assert refused.value.code == 401


def assert_nothing_published_beyond_this_machine(stack: Stack) -> None:
    published = {}
    for service in stack.containers():
        for port, bindings in (stack.inspect(service)["NetworkSettings"]["Ports"] or {}).items():
            for binding in bindings or []:
                published[f"{service} {port} {binding['HostPort']}"] = binding["HostIp"]
    assert published and set(published.values()) == {"127.0.0.1"}, published
    # The broker's only AMQP port is its TLS one.
    assert not stack.inspect("rabbitmq")["NetworkSettings"]["Ports"].get("5672/tcp"), "plain AMQP published"


def assert_every_agency_on_the_broker_over_tls(stack: Stack) -> None:
    def connected() -> list[dict]:
        rows = stack.management("connections")
        return rows if {c["user"] for c in rows} >= set(CLIENTS) else []

    connections = wait_until(connected, 60, "every agency and the supervision service connected", interval=1)
    assert all(c["ssl"] for c in connections), [(c["user"], c["ssl"]) for c in connections]
    for c in connections:
        if c["user"] in CLIENTS:
            assert f"CN={c['user']}" in c["peer_cert_subject"], c
    listeners = {(x["protocol"], x["port"]) for x in stack.management("overview")["listeners"]}
    assert ("amqp/ssl", 5671) in listeners and not any(p == "amqp" for p, _ in listeners), listeners


def assert_every_agency_on_postgres_over_tls(stack: Stack) -> None:
    query = (
        "SELECT DISTINCT a.usename || ' ' || s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) "
        "WHERE a.usename <> 'postgres' AND a.backend_type = 'client backend'"
    )
    seen = stack.compose("exec", "-T", "-u", "postgres", "postgres", "psql", "-d", "guichet", "-Atc", query).stdout
    sessions = dict(line.split() for line in seen.splitlines())
    assert set(sessions) >= set(CLIENTS) and set(sessions.values()) == {"true"}, sessions
    # Without TLS, PostgreSQL has no entry for it.
    plain = stack.compose(
        "exec",
        "-T",
        "-e",
        "PGSSLMODE=disable",
        "ofii",
        "python",
        "-c",
        "import psycopg; psycopg.connect('postgresql://ofii@postgres:5432/guichet')",
        check=False,
    )
    assert plain.returncode != 0 and "no encryption" in plain.stderr, plain.stderr[-500:]


def backup_lose_the_database_and_restore(stack: Stack) -> None:
    """scripts/stack-backup; then the agencies stopped, PostgreSQL's container and volume destroyed;
    then scripts/stack-restore, which brings the stack back up on the backup."""
    folder = stack.workdir / "backup"
    stack.script("stack-backup", str(folder))
    assert {p.name for p in folder.iterdir()} == {"guichet.dump", "supervision.dump", "SHA256SUMS"}
    assert folder.stat().st_mode & 0o077 == 0, "the backup is readable by its owner alone"
    stack.compose("stop", *CLIENTS, "postgres", timeout=300)
    stack.compose("rm", "--force", "postgres")
    volume = f"{stack.project}_postgres-data"
    subprocess.run(["docker", "volume", "rm", volume], check=True, capture_output=True, timeout=60)
    gone = subprocess.run(["docker", "volume", "inspect", volume], capture_output=True, timeout=60)
    assert gone.returncode != 0, "PostgreSQL's volume is destroyed"
    stack.script("stack-restore", str(folder))


def assert_every_journal_verifies(stack: Stack) -> None:
    for agency in AGENCIES:
        done = stack.compose(
            "exec",
            "-T",
            agency,
            "guichet",
            "--log-level",
            "warning",
            "journal",
            "verify",
            agency,
            "--database-url",
            f"postgresql://{agency}@postgres:5432/guichet",
            "--key-directory",
            "/keys/public/directory.json",
            check=False,
        )
        assert done.returncode == 0 and "chain intact" in done.stdout, (agency, done.stdout, done.stderr[-1000:])
        assert " 0 records" not in done.stdout, f"{agency}'s journal came back empty: {done.stdout}"
