"""A real OpenID Connect provider for the console's sign-in tests: oidc-provider (tests/interop/oidc,
pinned by its package-lock.json, installed by `npm ci`) on a free port, its one client registered for
the redirect URI the test gives. Node and npm are required: the tests fail, never skip, without them."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import wait_until
from tests.node_tools import npm_ci

OIDC_DIR = Path(__file__).parent / "interop" / "oidc"
CLIENT_ID = "console-supervision"
SECRET = "un-secret-de-client-pour-les-tests-seulement"


@dataclass(frozen=True)
class OidcProvider:
    issuer: str
    client_id: str
    client_secret: str


@contextmanager
def running_provider(redirect_uri: str) -> Iterator[OidcProvider]:
    node = npm_ci(OIDC_DIR, "to run a real OpenID Connect provider")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = subprocess.Popen(
        [node, str(OIDC_DIR / "provider.mjs"), str(port), redirect_uri, SECRET],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    issuer = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        if process.poll() is not None:
            pytest.fail(f"oidc-provider stopped: {process.stderr.read() if process.stderr else ''}")
        try:
            return httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answering, 30, "oidc-provider to publish its configuration")
        yield OidcProvider(issuer, CLIENT_ID, SECRET)
    finally:
        process.terminate()
        process.wait(timeout=10)
