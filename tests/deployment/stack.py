"""docker-compose.yml run under a project name of its own, for tests/deployment: `docker compose`,
the containers' state, what the stack's setup services made (copied out of their volumes), the
management API as the stack's administrator, and the DT-OFII's view of dossiers."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.request import Request, urlopen

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIME_SCALE = 100_000  # a legal day in about 0.9 s
OFII_DATABASE = "postgresql://ofii@postgres:5432/guichet"


def guichet_on_host(*args: str) -> list[str]:
    """The `guichet` console script installed next to this Python."""
    return [str(Path(sys.executable).parent / "guichet"), "--log-level", "warning", *args]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    """`docker compose` on docker-compose.yml under a project name of its own."""

    def __init__(self, workdir: Path):
        self.project = f"guichet-test-{uuid.uuid4().hex[:8]}"
        self.amqps_port, self.management_port, self.prometheus_port = free_port(), free_port(), free_port()
        self.console_port = free_port()
        self.clock = ["--time-scale", str(TIME_SCALE), "--clock-origin", datetime.now(UTC).isoformat()]
        self.env = {
            **os.environ,
            # scripts/stack-backup and stack-restore find the stack as `docker compose` does.
            "COMPOSE_PROJECT_NAME": self.project,
            "COMPOSE_FILE": str(ROOT / "docker-compose.yml"),
            "GUICHET_AMQPS_PORT": str(self.amqps_port),
            "GUICHET_MANAGEMENT_PORT": str(self.management_port),
            "GUICHET_PROMETHEUS_PORT": str(self.prometheus_port),
            "GUICHET_CONSOLE_PORT": str(self.console_port),
            "GUICHET_CONSOLE_URL": f"http://127.0.0.1:{self.console_port}/",
            "GUICHET_TIME_SCALE": self.clock[1],
            "GUICHET_CLOCK_ORIGIN": self.clock[3],
        }
        self.env.pop("GUICHET_BIND_ADDRESS", None)  # the default: this machine only
        self.workdir = workdir
        self.timings: dict[str, float] = {}

    def compose(self, *args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            ["docker", "compose", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            pytest.fail(
                f"docker compose {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}\n{self.logs()}"
            )
        return done

    def script(self, name: str, *args: str, timeout: float = 900) -> subprocess.CompletedProcess:
        """One of scripts/, on this stack; a failure shows its output and the stack's logs."""
        done = subprocess.run(
            [str(ROOT / "scripts" / name), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if done.returncode != 0:
            pytest.fail(f"scripts/{name} exited {done.returncode}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
        return done

    def timed(self, what: str, *args: str, timeout: float) -> None:
        start = time.monotonic()
        self.compose(*args, timeout=timeout)
        self.timings[what] = round(time.monotonic() - start, 1)

    def logs(self) -> str:
        done = subprocess.run(
            ["docker", "compose", "logs", "--tail", "15", "--no-color"],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout[-6000:]

    def containers(self) -> dict[str, dict]:
        out = self.compose("ps", "--all", "--format", "json").stdout
        rows = (
            json.loads(out)
            if out.lstrip().startswith("[")
            else [json.loads(line) for line in out.splitlines() if line.strip()]
        )
        return {row["Service"]: row for row in rows}

    def inspect(self, service: str) -> dict:
        container = self.containers()[service]["ID"]
        out = subprocess.run(["docker", "inspect", container], capture_output=True, text=True, timeout=30, check=True)
        return json.loads(out.stdout)[0]

    def started_at(self, service: str) -> str:
        return self.inspect(service)["State"]["StartedAt"]

    def healthy(self, *services: str) -> bool:
        rows = self.containers()
        return all(rows.get(s, {}).get("State") == "running" and rows[s].get("Health") == "healthy" for s in services)

    def copy_out(self, source: str, name: str) -> Path:
        """`docker compose cp service:path` into the test's folder."""
        target = self.workdir / name
        self.compose("cp", source, str(target))
        return target

    def admin_password(self) -> str:
        return (
            self.copy_out("secrets-setup:/stack-secrets/broker-admin/password", "broker-admin-password")
            .read_text()
            .strip()
        )

    def management(self, path: str, user: str = "guichet-admin", password: str | None = None) -> object:
        """GET on the management API (its port on 127.0.0.1), as the stack's administrator by default."""
        password = self.admin_password() if password is None else password
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request = Request(
            f"http://127.0.0.1:{self.management_port}/api/{path}", headers={"Authorization": f"Basic {token}"}
        )
        return json.load(urlopen(request, timeout=30))

    def tls_options(self, party: str) -> list[str]:
        """The --tls-* options of a host-side client (the portal, the operator), with the certificate
        secrets-setup made for it; the broker's certificate names 127.0.0.1."""
        folder = self.copy_out(f"secrets-setup:/stack-secrets/tls-{party}", f"tls-{party}")
        return [
            "--tls-ca",
            str(folder / "ca.crt"),
            "--tls-cert",
            str(folder / "client.crt"),
            "--tls-key",
            str(folder / "client.key"),
        ]

    def shown(self, ids: list[str]) -> dict[str, dict]:
        """`guichet dossier show ID --json` in the DT-OFII's container, as its own database account,
        for each of `ids`; the dossiers it cannot show yet are left out."""
        # One process for them all (in-process `guichet` calls): the container's memory and CPU
        # limits are the agency's, not twenty processes'.
        script = (
            "import contextlib, io, sys\n"
            "from guichet_cli.main import main\n"
            "for dossier_id in sys.argv[1:]:\n"
            "    out = io.StringIO()\n"
            "    try:\n"
            "        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):\n"
            "            main(['--log-level', 'warning', 'dossier', 'show', dossier_id, '--json',\n"
            f"                  '--database-url', '{OFII_DATABASE}'])\n"
            "    except BaseException:\n"
            "        pass\n"
            "    print('=== ' + dossier_id)\n"
            "    print(out.getvalue())\n"
        )
        out = self.compose("exec", "-T", "ofii", "python", "-c", script, *ids, timeout=300).stdout
        views = {}
        for chunk in out.split("=== ")[1:]:
            dossier_id, _, text = chunk.partition("\n")
            try:
                views[dossier_id] = json.loads(text)
            except ValueError:
                pass  # not yet in the DT-OFII's register
        return views
