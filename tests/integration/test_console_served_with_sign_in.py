"""The real console (guichet_operations/console/serve.py under uvicorn, in a process of its own so that
no test's stand-in is in it) behind the real sign-in, configured from GUICHET_CONSOLE_* variables: a
page without a session goes to the sign-in form, an account added with the CLI signs in and reads the
dossiers, a foreign Host gets a 400, and without its configuration the console does not start."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys

import httpx
import pytest

from guichet_operations.supervision.store import Store
from tests.conftest import wait_until
from tests.console_auth_app import AuthNotConfigured, auth
from tests.console_store import NOW, add_dossier, add_source

SECRET = "un secret de console pour les tests, assez long"
PASSWORD = "un mot de passe de console"


def env_for(url: str, **more: str) -> dict[str, str]:
    return {"GUICHET_CONSOLE_STORE": url, "GUICHET_CONSOLE_SECRET": SECRET, "GUICHET_CONSOLE_HOSTS": "127.0.0.1",
            "GUICHET_CONSOLE_HTTPS": "0"} | more  # fmt: skip


@pytest.fixture
def served(tmp_path):
    url = f"sqlite:///{tmp_path / 'supervision.sqlite3'}"
    store = Store(url)
    add_source(store, "ofii", NOW, NOW)
    add_dossier(store, "G-000001")
    store.close()
    added = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "console", "account", "add", "cmartin", "--name", "Camille Martin",
         "--role", "lecture", "--store", url], input=PASSWORD + "\n", capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "guichet_operations.console.serve:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"], env=os.environ | env_for(url),
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def answering() -> bool:
        assert server.poll() is None, "the console stopped"
        try:
            return httpx.get(base + "/connexion", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(answering, 30, "the console to answer")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_the_console_signs_people_in_and_shows_them_the_dossiers(served):
    with httpx.Client(base_url=served, follow_redirects=False, timeout=10) as browser:
        first = browser.get("/")
        assert first.status_code == 303 and first.headers["location"] == "/connexion?suite=%2F"
        form = browser.get(first.headers["location"])
        token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', form.text).group(1)
        signed = browser.post(
            "/connexion", data={"identifiant": "cmartin", "mot_de_passe": PASSWORD, "csrf_token": token, "suite": "/"}
        )
        assert signed.status_code == 303 and signed.headers["location"] == "/"
        page = browser.get("/")
        assert page.status_code == 200 and "G-000001" in page.text and "Camille Martin" in page.text
        assert "Se déconnecter" in page.text
        assert page.headers["x-frame-options"] == "DENY" and "content-security-policy" in page.headers
        assert browser.get("/", headers={"host": "evil.example"}).status_code == 400


def test_the_console_does_not_start_without_its_sign_in_s_configuration(tmp_path):
    url = f"sqlite:///{tmp_path / 'supervision.sqlite3'}"
    bare = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_CONSOLE_")}
    started = subprocess.run(
        [sys.executable, "-c", "from guichet_operations.console.serve import app; app()"],
        env=bare | {"GUICHET_CONSOLE_STORE": url},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert started.returncode != 0 and "GUICHET_CONSOLE_SECRET" in started.stderr


@pytest.mark.parametrize(
    "change,named",
    [
        ({"GUICHET_CONSOLE_SECRET": "court"}, "GUICHET_CONSOLE_SECRET"),
        ({"GUICHET_CONSOLE_HOSTS": ""}, "GUICHET_CONSOLE_HOSTS"),
        ({"GUICHET_CONSOLE_HTTPS": "peut-être"}, "GUICHET_CONSOLE_HTTPS"),
        ({"GUICHET_CONSOLE_SESSION_MINUTES": "trente"}, "GUICHET_CONSOLE_SESSION_MINUTES"),
        ({"GUICHET_CONSOLE_OIDC_ISSUER": "https://idp.example"}, "GUICHET_CONSOLE_OIDC_CLIENT_ID"),
    ],
)
def test_a_wrong_variable_is_named(change, named):
    with pytest.raises(AuthNotConfigured, match=named):
        auth.auth_config_from_environment(env_for("sqlite:///x") | change)


def test_the_environment_gives_the_oidc_federation():
    config = auth.auth_config_from_environment(env_for("sqlite:///x") | {
        "GUICHET_CONSOLE_HTTPS": "1", "GUICHET_CONSOLE_OIDC_ISSUER": "https://idp.example",
        "GUICHET_CONSOLE_OIDC_CLIENT_ID": "console", "GUICHET_CONSOLE_OIDC_CLIENT_SECRET": "s",
        "GUICHET_CONSOLE_OIDC_REDIRECT_BASE": "https://supervision.example/",
    })  # fmt: skip
    assert config.https_only and config.allowed_hosts == ["127.0.0.1"]
    assert config.oidc.redirect_uri == "https://supervision.example/connexion/oidc/retour"
    assert config.oidc.role_claim == "guichet_role"
