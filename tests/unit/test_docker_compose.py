"""docker-compose.yml, the Dockerfile and .dockerignore agree with the real `guichet` command line."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from guichet_cli.main import build_parser
from schemas.base import AGENCIES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
SERVICES = COMPOSE["services"]


def resolve(arg: str) -> str:
    """Compose interpolation as `docker compose` would do it with no variable set: ${VAR:-default}."""
    if re.search(r"\$(?!\{)[A-Za-z_]", arg):
        pytest.fail(f"unsupported interpolation in {arg!r}: write ${{VAR:-default}}")
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*(?::?-([^}]*))?\}", lambda m: m.group(1) or "", arg)


def parse(argv: list) -> object:
    """Parse with the real parser; argparse's exit on a bad argument becomes a test failure."""
    assert argv[0] == "guichet", argv
    args = [resolve(str(a)) for a in argv[1:]]
    try:
        return build_parser().parse_args(args)
    except SystemExit:
        pytest.fail(f"`guichet` rejects {args}")


def test_the_broker_and_the_four_agencies_are_services():
    assert set(AGENCIES) == {"ofii", "smoe", "consulat", "prefecture"}
    assert set(SERVICES) >= {"rabbitmq", *AGENCIES}


def test_rabbitmq_is_health_checked_and_keeps_its_data():
    rabbit = SERVICES["rabbitmq"]
    assert rabbit["image"] == "${RABBITMQ_IMAGE:-rabbitmq:3.13-management}"
    assert {str(p).split(":")[-1] for p in rabbit["ports"]} >= {"5671", "15672", "15692"}
    assert "rabbitmq-diagnostics" in rabbit["healthcheck"]["test"]
    volume = {v.split(":")[1]: v.split(":")[0] for v in rabbit["volumes"]}["/var/lib/rabbitmq"]
    assert volume in COMPOSE["volumes"]


def test_rabbitmq_runs_the_management_and_prometheus_plugins():
    mounts = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["rabbitmq"]["volumes"]}
    plugins = (ROOT / mounts["/etc/rabbitmq/enabled_plugins"]).read_text(encoding="utf-8")
    assert re.fullmatch(r"\[rabbitmq_management,rabbitmq_prometheus\]\.\s*", plugins), plugins


def test_published_ports_are_variables_defaulting_to_the_usual_ones_on_this_machine_only():
    ports = [resolve(p) for p in SERVICES["rabbitmq"]["ports"]]
    assert ports == ["127.0.0.1:5671:5671", "127.0.0.1:15672:15672", "127.0.0.1:15692:15692"]
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            address, published = re.match(r"(\$\{[^}]+\}):(\$\{[^}]+\}):\d+$", port).groups()
            assert address == "${GUICHET_BIND_ADDRESS:-127.0.0.1}", f"{name} publishes {port} on every interface"
            assert published.startswith("${GUICHET_"), port
    assert "ports" not in SERVICES["postgres"], "the registers' server is reached inside the stack only"


def test_base_images_are_variables_defaulting_to_public_images():
    assert resolve(SERVICES["postgres"]["image"]) == "postgres:16"
    assert SERVICES["register-setup"]["image"] == SERVICES["postgres"]["image"]
    for name in ("broker-setup", "keys-setup", *AGENCIES):
        build = SERVICES[name]["build"]
        assert resolve(build["args"]["GUICHET_BASE_IMAGE"]) == "python:3.11-slim"
    script = (ROOT / "scripts" / "build-base-images").read_text(encoding="utf-8")
    for variable in ("GUICHET_BASE_IMAGE", "RABBITMQ_IMAGE", "POSTGRES_IMAGE"):
        assert f'stand_in "${variable}"' in script, f"scripts/build-base-images builds no {variable}"


def test_postgres_is_health_checked_over_tcp_and_keeps_its_data():
    postgres = SERVICES["postgres"]
    assert postgres["healthcheck"]["test"][:2] == ["CMD", "pg_isready"]
    assert "127.0.0.1" in postgres["healthcheck"]["test"]
    assert postgres["environment"]["POSTGRES_DB"] == "guichet"
    volume = {v.split(":")[1]: v.split(":")[0] for v in postgres["volumes"]}["/var/lib/postgresql/data"]
    assert volume in COMPOSE["volumes"]


@pytest.mark.parametrize("agency", AGENCIES)
def test_agency_keeps_its_register_in_its_own_schema_under_its_own_account(agency):
    service = SERVICES[agency]
    url = urlsplit(parse(service["command"]).database_url)
    assert (url.scheme, url.username, url.password, url.hostname, url.path) == (
        "postgresql",
        agency,
        None,
        "postgres",
        "/guichet",
    )
    assert service["environment"]["PGPASSFILE"] == f"/register-secrets/{agency}.pgpass"
    assert "register-secrets:/register-secrets:ro" in service["volumes"]
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert service["depends_on"]["register-setup"]["condition"] == "service_completed_successfully"
    setup = (ROOT / "deploy" / "postgres" / "register-setup.sh").read_text(encoding="utf-8")
    assert f"for agency in {' '.join(AGENCIES)}; do" in setup
    assert 'file="/register-secrets/$agency.pgpass"' in setup


@pytest.mark.parametrize("agency", AGENCIES)
def test_agencies_share_one_clock_and_declare_quorum_queues(agency):
    args = parse(SERVICES[agency]["command"])
    assert args.queue_type == "quorum"
    assert args.time_scale == 1.0 and not args.clock_origin, "real time unless the variables say otherwise"
    command = " ".join(SERVICES[agency]["command"])
    assert "${GUICHET_TIME_SCALE:-1}" in command and "--clock-origin=${GUICHET_CLOCK_ORIGIN:-}" in command
    assert "--queue-type', 'quorum'" in str(SERVICES["broker-setup"]["command"])


@pytest.mark.parametrize("agency", AGENCIES)
def test_agency_runs_itself_on_the_compose_broker(agency):
    service = SERVICES[agency]
    args = parse(service["command"])
    assert (args.command, args.agency, args.data_dir) == ("run", agency, "/data")
    broker = urlsplit(args.broker)
    assert (broker.scheme, broker.hostname, broker.port) == ("amqps", "rabbitmq", 5671)
    assert service["depends_on"]["rabbitmq"]["condition"] == "service_healthy"
    assert service["restart"] == "unless-stopped"
    assert service["environment"]["GUICHET_LOG_LEVEL"] == "info"
    assert service["environment"]["TZ"] == "Europe/Paris"
    assert "build" in service or service["image"] in {s.get("image") for s in SERVICES.values() if "build" in s}


@pytest.mark.parametrize("agency", AGENCIES)
def test_agency_healthcheck_reads_its_own_heartbeat(agency):
    test = SERVICES[agency]["healthcheck"]["test"]
    assert test[0] == "CMD", test
    args = parse(test[1:])
    assert (args.command, args.agency, args.data_dir) == ("health", agency, "/data")


def test_each_agency_keeps_its_own_register():
    mounts = {}
    for agency in AGENCIES:
        targets = {v.split(":")[1]: v.split(":")[0] for v in SERVICES[agency]["volumes"]}
        mounts[agency] = targets["/data"]
        assert mounts[agency] in COMPOSE["volumes"], f"{agency}: /data is not a named volume"
    assert len(set(mounts.values())) == len(AGENCIES), mounts


def test_dockerfile_installs_the_dependencies_then_the_code_as_a_non_root_user():
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG GUICHET_BASE_IMAGE=python:3\.11-slim$", dockerfile, re.M)
    assert re.search(r"^FROM \$\{GUICHET_BASE_IMAGE\}$", dockerfile, re.M)
    # The dependencies' layer depends on the pinned image lock alone; the code comes after it.
    steps = [
        dockerfile.index(s)
        for s in (
            "COPY requirements/ops.txt ./requirements.txt",
            "pip install --no-cache-dir --no-deps --require-hashes -r requirements.txt",
            "COPY . .",
            "pip install --no-cache-dir --no-deps .",
        )
    ]
    assert steps == sorted(steps), steps
    # Every pinned file has its hash in the lock, which the image requires (scripts/lock).
    lock = (ROOT / "requirements" / "ops.txt").read_text(encoding="utf-8")
    pins = re.findall(r"^[A-Za-z0-9_.-]+==\S+ \\\n\s+--hash=sha256:[0-9a-f]{64}", lock, re.M)
    assert pins and len(pins) == len(re.findall(r"^[A-Za-z0-9_.-]+==", lock, re.M))
    users = re.findall(r"^USER\s+(\S+)", dockerfile, re.M)
    assert users and users[-1] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*\n?.*CMD guichet health", dockerfile, re.M)
    assert re.search(r"^CMD\s+\[\"guichet\",\s*\"--help\"\]", dockerfile, re.M)


def test_dockerignore_leaves_out_local_state_but_not_package_data():
    patterns = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for local in (".venv", ".git", "data", ".pytest_cache", "guichet/__pycache__", "tests", "deploy"):
        assert any(fnmatch.fnmatch(local, p.removeprefix("**/")) or fnmatch.fnmatch(local, p) for p in patterns), local
    for needed in ("pyproject.toml", "services/data", "guichet_simulation/examples", "schemas", "services"):
        assert not any(fnmatch.fnmatch(needed, p) for p in patterns), needed


def broker_setup_args(monkeypatch) -> object:
    """broker-setup's command is deploy/rabbitmq/broker-setup.sh, which passes its arguments on to
    `guichet broker setup` with the administrator's URLs in the environment."""
    setup = SERVICES["broker-setup"]
    assert setup["command"][:2] == ["sh", "/setup/broker-setup.sh"]
    script = (ROOT / "deploy" / "rabbitmq" / "broker-setup.sh").read_text(encoding="utf-8")
    admin = re.search(r'GUICHET_BROKER_ADMIN_URL="([^"]+)"', script).group(1)
    management = re.search(r'GUICHET_MANAGEMENT_URL="([^"]+)"', script).group(1)
    monkeypatch.setenv("GUICHET_BROKER_ADMIN_URL", resolve(admin.replace("$password", "PASSWORD")))
    monkeypatch.setenv("GUICHET_MANAGEMENT_URL", resolve(management.replace("$password", "PASSWORD")))
    assert 'exec guichet broker setup --tls-ca "$admin/ca.crt"' in script
    return parse(["guichet", "broker", "setup", *setup["command"][2:]])


def test_broker_setup_runs_once_before_the_agencies_and_each_agency_uses_its_own_account(monkeypatch):
    setup = SERVICES["broker-setup"]
    args = broker_setup_args(monkeypatch)
    assert (args.command, args.broker_command) == ("broker", "setup")
    broker, management = urlsplit(args.broker), urlsplit(args.management_url)
    assert (broker.scheme, broker.hostname, broker.port, broker.username) == (
        "amqps",
        "rabbitmq",
        5671,
        "guichet-admin",
    )
    assert management.hostname == "rabbitmq" and management.username == "guichet-admin"
    written = {v.split(":")[1]: v.split(":")[0] for v in setup["volumes"]}
    assert Path(args.credentials).parent.as_posix() in written and setup["restart"] == "no"
    for agency in AGENCIES:
        service = SERVICES[agency]
        run = parse(service["command"])
        assert run.credentials == args.credentials, f"{agency} reads the passwords broker-setup writes"
        assert urlsplit(run.broker).username is None, f"{agency} takes no shared user from the URL"
        assert service["depends_on"]["broker-setup"]["condition"] == "service_completed_successfully"
        assert f"{written['/secrets']}:/secrets:ro" in service["volumes"]


def test_run_with_credentials_connects_as_the_agency(tmp_path):
    from guichet_cli.commands.common import account_url

    creds = tmp_path / "broker-credentials.json"
    creds.write_text('{"smoe": "p@ss/word", "ofii": "x"}')
    url = account_url("amqp://rabbitmq:5672//", str(creds), "smoe")
    parts = urlsplit(url)
    assert (parts.username, parts.hostname, parts.port, parts.path) == ("smoe", "rabbitmq", 5672, "//")
    assert "p%40ss%2Fword" in url


def test_keys_setup_gives_each_agency_a_key_and_the_portal_one_per_employer_it_serves():
    setup = SERVICES["keys-setup"]
    args = parse(setup["command"])
    assert (args.command, args.keys_command, args.keys_root) == ("keys", "init", "/keys")
    assert args.directory == "/keys/public/directory.json"
    sirets = args.employers.split(",")
    example = (ROOT / "guichet_simulation" / "examples" / "guichet-unique.json").read_text(encoding="utf-8")
    assert set(re.findall(r'"siret":\s*"(\d{14})"', example)) <= set(sirets), "the stack's test filings are signed"
    mounts = {v.split(":")[1]: v.split(":")[0] for v in setup["volumes"]}
    assert set(mounts) == {"/keys/public", "/keys/portal", *(f"/keys/{a}" for a in AGENCIES)}
    assert all(m in COMPOSE["volumes"] for m in mounts.values()) and setup["restart"] == "no"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert all(target in dockerfile for target in (*mounts, "/keys/own")), "mount points owned by the service user"


@pytest.mark.parametrize("agency", AGENCIES)
def test_agency_runs_signed_with_the_public_directory_and_its_own_keys_only(agency):
    service = SERVICES[agency]
    env = service["environment"]
    assert env["GUICHET_REQUIRE_SIGNATURES"] == "1"
    assert env["GUICHET_KEY_DIRECTORY"] == "/keys/public/directory.json"
    setup = {v.split(":")[1]: v.split(":")[0] for v in SERVICES["keys-setup"]["volumes"]}
    mounted = {v.split(":")[1]: v for v in service["volumes"] if v.split(":")[1].startswith("/keys/")}
    assert mounted["/keys/public"] == f"{setup['/keys/public']}:/keys/public:ro"
    assert mounted["/keys/own"] == f"{setup[f'/keys/{agency}']}:/keys/own:ro"
    # Only the DT-OFII plays the employers and the worker (its simulated actors): it alone holds the portal's keys.
    expected = {"/keys/public", "/keys/own", *(["/keys/portal"] if agency == "ofii" else [])}
    assert set(mounted) == expected and all(v.endswith(":ro") for v in mounted.values())
    assert env["GUICHET_KEYS_DIR"].split(":") == sorted(expected - {"/keys/public"}, key=lambda p: p != "/keys/own")
    assert service["depends_on"]["keys-setup"]["condition"] == "service_completed_successfully"


@pytest.mark.parametrize("agency", AGENCIES)
def test_agency_plays_simulated_actors_and_serves_its_status_to_the_other_containers(agency):
    args = parse(SERVICES[agency]["command"])
    assert args.simulated_actors, "no back-office in this stack: simulated people play its acts"
    assert args.http_host == "0.0.0.0", "Prometheus scrapes from its own container"


def test_alertmanager_runs_in_the_monitoring_profile_and_prometheus_sends_it_the_alerts():
    alertmanager = SERVICES["alertmanager"]
    assert alertmanager["profiles"] == ["monitoring"] == SERVICES["prometheus"]["profiles"]
    mounts = {resolve(v).split(":")[1]: resolve(v).split(":")[0] for v in alertmanager["volumes"]}
    config = mounts["/etc/alertmanager/alertmanager.yml"]
    assert config == "./deploy/alertmanager/alertmanager.yml" and (ROOT / config).is_file()
    assert "--config.file=/etc/alertmanager/alertmanager.yml" in alertmanager["command"]
    assert mounts["/alertmanager"] in COMPOSE["volumes"], "silences and notification state survive a restart"
    assert [resolve(p) for p in alertmanager["ports"]] == ["127.0.0.1:9093:9093"]
    prometheus = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    targets = [t for am in prometheus["alerting"]["alertmanagers"] for c in am["static_configs"] for t in c["targets"]]
    assert targets == ["alertmanager:9093"]
    assert "alertmanager" in SERVICES["prometheus"]["depends_on"]
