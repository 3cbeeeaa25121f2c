"""`guichet console account add|list|disable` as an administrator uses it: the password comes from
standard input and nowhere else, an error names the field, a disabled account's sessions end and it
cannot sign in again."""

from __future__ import annotations

import subprocess
import sys

import pytest
from starlette.testclient import TestClient

from guichet_operations.supervision.store import Store
from tests.console_auth_app import Clock, config, tiny_app, token_in

PASSWORD = "un mot de passe de console"


def guichet(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "guichet_cli", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def url(tmp_path):
    return f"sqlite:///{tmp_path / 'supervision.sqlite3'}"


def test_help_shows_the_console_s_account_commands():
    assert "console" in guichet("--help").stdout
    assert "add" in guichet("console", "account", "--help").stdout
    assert "standard input" in guichet("console", "account", "add", "--help").stdout


def test_an_account_added_from_standard_input_signs_in_and_stops_when_disabled(url):
    added = guichet("console", "account", "add", "cmartin", "--name", "Camille Martin", "--role", "operateur",
                    "--store", url, stdin=PASSWORD + "\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert guichet("console", "account", "list", "--store", url).stdout == "cmartin\toperateur\tCamille Martin\n"
    store = Store(url)
    try:
        with TestClient(tiny_app(store, config(Clock())), follow_redirects=False) as client:
            form = client.get("/connexion")
            signed = client.post("/connexion", data={"identifiant": "cmartin", "mot_de_passe": PASSWORD,
                                                     "csrf_token": token_in(form.text)})  # fmt: skip
            assert signed.status_code == 303 and client.get("/agir").text == "fait"
            disabled = guichet("console", "account", "disable", "cmartin", "--store", url)
            assert disabled.returncode == 0 and "1 session(s) ended" in disabled.stdout
            assert client.get("/agir").status_code == 303
        listed = guichet("console", "account", "list", "--store", url).stdout
        assert listed == "cmartin\toperateur\tCamille Martin\tdisabled\n"
    finally:
        store.close()


@pytest.mark.parametrize(
    "args,stdin,field",
    [
        (["a b", "--name", "X", "--role", "agent"], PASSWORD + "\n", "IDENT"),
        (["x", "--name", " ", "--role", "agent"], PASSWORD + "\n", "--name"),
        (["x", "--name", "X", "--role", "agent"], "court\n", "password"),
        (["x", "--name", "X", "--role", "agent"], "", "password"),
        (["x", "--name", "X", "--role", "chef"], PASSWORD + "\n", "--role"),
    ],
)
def test_an_account_that_cannot_be_made_is_refused_naming_the_field(url, args, stdin, field):
    result = guichet("console", "account", "add", *args, "--store", url, stdin=stdin)
    assert result.returncode == 2 and field in result.stderr and "Traceback" not in result.stderr


def test_the_password_cannot_be_given_on_the_command_line(url):
    result = guichet("console", "account", "add", "x", "--name", "X", "--role", "agent", "--password", PASSWORD,
                     "--store", url, stdin=PASSWORD + "\n")  # fmt: skip
    assert result.returncode == 2 and "unrecognized arguments" in result.stderr


def test_disabling_an_unknown_account_names_it(url):
    result = guichet("console", "account", "disable", "personne", "--store", url)
    assert result.returncode == 2 and "personne" in result.stderr
