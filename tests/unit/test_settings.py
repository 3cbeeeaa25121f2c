"""One configuration object per command: flags first, their GUICHET_* variables as defaults, and
an error that names where a bad value came from."""

from __future__ import annotations

import argparse

import pytest

from guichet.settings import TLSConfigError
from guichet_cli.commands.common import add_broker, add_data
from guichet_cli.settings import add_directory, add_signing, settings_from


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_broker(parser, required=False)
    add_data(parser)
    add_signing(parser)
    add_directory(parser)
    return parser.parse_args(argv)


def test_a_flag_wins_over_its_variable_and_the_variable_is_the_default(monkeypatch, tmp_path):
    for name, value in {
        "GUICHET_TLS_CA": "/from/env/ca.pem",
        "GUICHET_TLS_SERVER_NAME": "broker.example.org",
        "GUICHET_KEY_DIRECTORY": "/from/env/keys.json",
        "GUICHET_DATA_DIR": "/from/env/data",
        "GUICHET_NAMESPACE": "from-env",
    }.items():
        monkeypatch.setenv(name, value)
    settings = settings_from(parse(["--tls-ca", "/from/flag/ca.pem", "--keys-dir", str(tmp_path)]))
    assert settings.tls.ca == "/from/flag/ca.pem" and settings.tls.origin["ca"] == "--tls-ca"
    assert (
        settings.tls.server_name == "broker.example.org"
        and settings.tls.origin["server_name"] == "GUICHET_TLS_SERVER_NAME"
    )
    assert (settings.signing.key_directory, settings.signing.keys_dir) == ("/from/env/keys.json", str(tmp_path))
    assert str(settings.data_dir) == "/from/env/data" and settings.namespace == "from-env"


def test_a_missing_tls_file_is_named_by_the_flag_or_the_variable_it_came_from(monkeypatch, tmp_path):
    monkeypatch.delenv("GUICHET_TLS_CA", raising=False)
    with pytest.raises(TLSConfigError, match=r"^--tls-ca=.*nope\.pem: no such file"):
        settings_from(parse(["--tls-ca", str(tmp_path / "nope.pem")])).tls.options("amqps://h:5671//")
    monkeypatch.setenv("GUICHET_TLS_CA", str(tmp_path / "gone.pem"))
    with pytest.raises(TLSConfigError, match=r"^GUICHET_TLS_CA=.*gone\.pem: no such file"):
        settings_from(parse([])).tls.options("amqps://h:5671//")


def test_the_child_processes_of_a_tool_get_the_same_settings_as_variables(monkeypatch, tmp_path):
    monkeypatch.delenv("GUICHET_TLS_CA", raising=False)
    directory = tmp_path / "annuaire.json"
    directory.write_text("{}")
    env = settings_from(parse(["--tls-ca", "/ca.pem", "--directory", str(directory)])).child_environment()
    assert env["GUICHET_TLS_CA"] == "/ca.pem" and env["GUICHET_DIRECTORY"] == str(directory.resolve())


def test_a_directory_that_does_not_exist_is_refused_naming_the_option(tmp_path):
    with pytest.raises(Exception, match=r"--directory: .*missing\.json: no such file"):
        settings_from(parse(["--directory", str(tmp_path / "missing.json")]))
