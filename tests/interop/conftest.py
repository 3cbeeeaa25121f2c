"""The Node.js verifier, the amqplib consumer and the OpenID Connect provider (oidc-provider): installed
from the lock files of tests/interop/node, tests/interop/amqp and tests/interop/oidc by `npm ci` once per
test session. Node and npm are required: the
interoperability tests fail, never skip, without them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.node_tools import npm_ci
from tests.oidc_provider import running_provider

NODE_DIR = Path(__file__).parent / "node"
AMQP_DIR = Path(__file__).parent / "amqp"
CONNECTOR = Path(__file__).parents[2] / "connectors" / "consulat-node"
# What the test console is reached as (starlette's TestClient), so where the provider sends people back.
CONSOLE_BASE = "http://testserver"


@pytest.fixture(scope="session")
def node_verify():
    node = npm_ci(NODE_DIR, "to check signatures as a JavaScript connector would")

    def verify(directory: Path, envelopes: list[Path]) -> tuple[int, dict[str, dict]]:
        """Run verify.mjs; its exit code and its verdict for each file, by file name."""
        done = subprocess.run(
            [node, str(NODE_DIR / "verify.mjs"), str(directory), *map(str, envelopes)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        verdicts = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        assert len(verdicts) == len(envelopes), f"node verifier said: {done.stdout}{done.stderr}"
        return done.returncode, {Path(v["file"]).name: v for v in verdicts}

    return verify


@pytest.fixture(scope="session")
def amqplib_consume():
    node = npm_ci(AMQP_DIR, "to read deliveries as a JavaScript connector would")

    def consume(url: str, queues: list[str], expected: int, timeout: float = 30) -> list[dict]:
        """Consume `expected` deliveries from `queues` with stock amqplib; each as amqplib decoded it."""
        done = subprocess.run(
            [node, str(AMQP_DIR / "consume.mjs"), url, str(expected), str(int(timeout * 1000)), *queues],
            capture_output=True,
            text=True,
            timeout=timeout + 30,
        )
        assert done.returncode == 0, f"amqplib could not read the deliveries: {done.stderr[-3000:]}"
        return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]

    return consume


@pytest.fixture(scope="session")
def oidc_provider():
    """oidc-provider on a free port, its one client registered for CONSOLE_BASE/connexion/oidc/retour."""
    with running_provider(f"{CONSOLE_BASE}/connexion/oidc/retour") as provider:
        yield provider


@pytest.fixture(scope="session")
def node_consulate() -> list[str]:
    """The Node.js consulate (connectors/consulat-node) installed from its lock file; the command that runs it."""
    node = npm_ci(CONNECTOR, "to run the Node.js consulate")
    return [node, str(CONNECTOR / "src" / "main.mjs")]
