"""docker-compose.yml built and run for real, on the secrets its secrets-setup made and over TLS:
twenty dossiers filed from the host through the published AMQPS port, signed with the portal's keys
for their employers, reach the outcome the embedded simulation gives them on agencies that require
signatures, while an agency and the broker are killed and brought back mid-run; nothing ends in the
error queue. The broker has no `guest`, nothing is published beyond 127.0.0.1, every agency speaks
TLS to the broker and to PostgreSQL; then a backup of the registers is restored after the loss of
PostgreSQL's volume, and every dossier and every agency's journal is still there, intact.

The base images come from GUICHET_BASE_IMAGE, RABBITMQ_IMAGE and POSTGRES_IMAGE when set (the
local stand-ins of scripts/build-base-images on a machine without a registry), else the public ones.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from pathlib import Path
from urllib.request import urlopen

import httpx
import pytest

from schemas.base import AGENCIES
from tests.conftest import wait_until
from tests.deployment import stack_checks
from tests.deployment.stack import OFII_DATABASE, ROOT, Stack, guichet_on_host

pytestmark = pytest.mark.docker

SCENARIO = ROOT / "guichet_simulation" / "examples" / "guichet-unique.json"
REPEAT = 5  # the example's four dossiers, five times each: twenty dossiers
FINAL = {"titre_remis", "titre_a_retirer_en_prefecture", "hors_guichet_unique", "refus", "classe_sans_suite"}


@pytest.fixture
def stack(tmp_path):
    if shutil.which("docker") is None:
        pytest.fail("docker is not installed: the compose stack test needs Docker and Compose v2 (.ci/docker-ready)")
    info = subprocess.run(["docker", "info"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        pytest.fail(f"Docker cannot run here (start dockerd; .ci/docker-ready does): {info.stderr.strip()[-500:]}")
    version = subprocess.run(["docker", "compose", "version", "--short"], capture_output=True, text=True, timeout=60)
    if version.returncode != 0 or not version.stdout.strip().lstrip("v").startswith("2."):
        pytest.fail(f"docker compose v2 is needed (.ci/docker-ready installs it): {version.stderr.strip()}")
    s = Stack(tmp_path)
    try:
        yield s
    finally:
        s.compose("down", "--volumes", "--remove-orphans", "--timeout", "20", timeout=300, check=False)
        print(f"compose stack timings (s): {s.timings}")


def console_session(stack: Stack, tmp_path: Path) -> httpx.Client:
    """Signed in to the supervision console as the administrator console-setup made, with the
    password it wrote to its volume: the sign-in form's CSRF token first, then the form."""
    secret = tmp_path / "admin-password"
    stack.compose("cp", "console-setup:/console-secrets/admin-password", str(secret))
    client = httpx.Client(base_url=f"http://127.0.0.1:{stack.console_port}", timeout=30)
    assert client.get("/").status_code == 303, "no session: the console sends the browser to sign in"
    form = client.get("/connexion?suite=/")
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)
    fields = {"identifiant": "admin", "mot_de_passe": secret.read_text().strip(), "csrf_token": token, "suite": "/"}
    signed_in = client.post("/connexion", data=fields)
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/", signed_in.text[-500:]
    return client


def expected_outcomes(tmp_path: Path) -> dict[str, str]:
    """The outcome of each of the twenty dossiers on the embedded simulation of the same scenario."""
    simulated = subprocess.run(
        guichet_on_host("simulate", "--json", "--scenario", str(SCENARIO)), capture_output=True, text=True, timeout=300
    )
    assert simulated.returncode == 0, simulated.stderr
    outcomes = {d["id"]: d["outcome"] for d in json.loads(simulated.stdout)["dossiers"]}
    assert set(outcomes.values()) <= FINAL and len(outcomes) == 4, outcomes
    return {f"{dossier_id}-{n}": outcome for dossier_id, outcome in outcomes.items() for n in range(1, REPEAT + 1)}


def test_twenty_dossiers_cross_the_compose_stack_through_an_agency_and_a_broker_crash(stack, tmp_path):
    expected = expected_outcomes(tmp_path)
    start = time.monotonic()
    stack.timed("build", "build", timeout=1800)
    stack.timed("up to healthy", "up", "--detach", "--wait", "--wait-timeout", "600", timeout=700)
    assert stack.containers()["broker-setup"]["ExitCode"] == 0
    assert stack.containers()["register-setup"]["ExitCode"] == 0
    assert stack.containers()["keys-setup"]["ExitCode"] == 0
    assert stack.containers()["secrets-setup"]["ExitCode"] == 0

    # Nothing by default: the administrator is the stack's own, the ports are this machine's, and
    # every agency speaks TLS with its own certificate.
    stack_checks.assert_no_guest_on_the_broker(stack)
    stack_checks.assert_nothing_published_beyond_this_machine(stack)
    stack_checks.assert_every_agency_on_the_broker_over_tls(stack)
    stack_checks.assert_every_agency_on_postgres_over_tls(stack)

    credentials = tmp_path / "broker-credentials.json"
    stack.compose("cp", "broker-setup:/secrets/broker-credentials.json", str(credentials))
    passwords = json.loads(credentials.read_text())
    broker = f"amqps://127.0.0.1:{stack.amqps_port}//"

    # The agencies require signatures: the portal signs each filing with the key of its employer
    # (or the worker's), which keys-setup made for the SIRETs the portal serves.
    directory, portal_keys = tmp_path / "directory.json", tmp_path / "portal"
    stack.compose("cp", "keys-setup:/keys/public/directory.json", str(directory))
    stack.compose("cp", "keys-setup:/keys/portal", str(portal_keys))
    keys = json.loads(directory.read_text())["keys"]
    assert {k["party"] for k in keys} >= {*AGENCIES, "employeur", "travailleur"}
    assert all(k.get("subject") for k in keys if k["party"] == "employeur"), "one key per employer"

    filed = subprocess.run(
        guichet_on_host(
            "submit",
            str(SCENARIO),
            "--broker",
            broker,
            "--credentials",
            str(credentials),
            "--key-directory",
            str(directory),
            "--keys-dir",
            str(portal_keys),
            "--repeat",
            str(REPEAT),
            *stack.tls_options("portal"),
            *stack.clock,
        ),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert filed.returncode == 0, filed.stderr
    assert f"filed {len(expected)} dossier(s)" in filed.stdout
    filed_at = time.monotonic()

    # Mid-run: the DT-OFII holds the dossiers and none has reached its end yet.
    first = wait_until(lambda: stack.shown(["EX-MISSION-92-1"]), 120, "the DT-OFII recording a filing")
    assert first["EX-MISSION-92-1"]["outcome"] not in FINAL, first
    before = {s: stack.started_at(s) for s in ("ofii", "rabbitmq")}
    stack.compose("kill", "ofii", "rabbitmq")
    stack.compose("start", "rabbitmq", timeout=300)
    stack.compose("start", "ofii", timeout=300)
    wait_until(
        lambda: stack.healthy("rabbitmq", "ofii", "smoe", "consulat", "prefecture"),
        300,
        f"the stack healthy again after the crash: {stack.containers()}",
        interval=2,
    )
    assert all(stack.started_at(s) != before[s] for s in before), "ofii and rabbitmq were restarted"
    stack.timings["filing to recovered from the crash"] = round(time.monotonic() - filed_at, 1)

    views: dict[str, dict] = {}

    def all_at_their_end() -> bool:
        pending = [i for i in expected if views.get(i, {}).get("outcome") != expected[i]]
        views.update(stack.shown(pending))
        return all(views.get(i, {}).get("outcome") == expected[i] for i in expected)

    wait_until(
        all_at_their_end,
        900,
        f"the twenty dossiers at their expected outcome (so far: { {i: v.get('outcome') for i, v in views.items()} })",
        interval=2,
    )
    stack.timings["filing to every dossier at its end"] = round(time.monotonic() - filed_at, 1)
    assert [s["step"] for s in views["EX-MISSION-92-3"]["steps"]][-1] == "remise_titre"

    operator = f"amqps://operateur:{passwords['operateur']}@127.0.0.1:{stack.amqps_port}//"
    errors = subprocess.run(
        guichet_on_host("errors", "list", "--json", "--broker", operator, *stack.tls_options("operateur")),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert errors.returncode == 0, errors.stderr
    assert json.loads(errors.stdout)["count"] == 0, errors.stdout

    # The agencies' queues are quorum queues, and the broker exports its metrics.
    queues = {q["name"]: q for q in stack.management("queues/%2F")}
    assert {queues[f"guichet.{a}"]["type"] for a in AGENCIES} == {"quorum"}, queues.keys()
    metrics = urlopen(f"http://127.0.0.1:{stack.prometheus_port}/metrics", timeout=30).read().decode()
    assert "rabbitmq_queue_messages" in metrics or "rabbitmq_queues" in metrics

    # Each agency's database account reaches its own schema and no other.
    probe = (
        "import psycopg\n"
        f"conn = psycopg.connect('{OFII_DATABASE}', autocommit=True)\n"
        "print(conn.execute('SELECT count(*) FROM ofii.dossiers').fetchone()[0])\n"
        "try:\n    conn.execute('SELECT count(*) FROM smoe.dossiers')\n"
        "except psycopg.errors.InsufficientPrivilege:\n    print('denied')\n"
    )
    seen = stack.compose("exec", "-T", "ofii", "python", "-c", probe).stdout.split()
    assert seen == [str(len(expected)), "denied"], seen
    # The supervision service took every agency's audit copies into its own database; signed in, the
    # console lists the twenty dossiers at the outcomes the agencies gave them.
    assert stack.containers()["console-setup"]["ExitCode"] == 0
    console = console_session(stack, tmp_path)

    def listed() -> dict[str, str]:
        rows = console.get("/api/v1/dossiers", params={"taille": "50"}).json()["rows"]
        return {r["dossier_id"]: r["outcome"] for r in rows}

    wait_until(lambda: listed() == expected, 120, f"the console's twenty dossiers (so far {listed()})", interval=2)
    page = console.get("/")
    assert page.status_code == 200 and "20 dossiers" in page.text
    sources = {s["agency"] for s in console.get("/api/v1/services").json()["sources"]}
    assert sources == set(AGENCIES), sources

    # A backup, PostgreSQL's volume lost, the backup restored: every dossier is back at its outcome,
    # and each agency's journal verifies (its hash chain and its signed anchors).
    restore_started = time.monotonic()
    stack_checks.backup_lose_the_database_and_restore(stack)
    restored = stack.shown(list(expected))
    assert {i: v["outcome"] for i, v in restored.items()} == expected
    steps = {i: [s["step"] for s in v["steps"]] for i, v in views.items()}
    assert {i: [s["step"] for s in v["steps"]] for i, v in restored.items()} == steps
    stack_checks.assert_every_journal_verifies(stack)
    stack.timings["backup, loss and restore"] = round(time.monotonic() - restore_started, 1)
    stack.timings["test after build"] = round(time.monotonic() - start - stack.timings["build"], 1)
