"""TLS options are for amqps:// URLs: given with an amqp:// URL, every command that connects refuses
them in one line naming the option (or its variable) and the scheme, instead of connecting in clear
text. The broker URL points at a closed port: a command that ignored the options would fail to
connect (exit 3), not print this refusal."""

from __future__ import annotations

import pytest

from guichet.bus import Bus
from guichet.settings import TLSConfigError, TLSSettings
from guichet.topology import Topology
from guichet_cli.main import main
from services.parties import PARTIES

CLEAR = "amqp://guest:guest@127.0.0.1:1//"

COMMANDS = {
    "run": ["run", "ofii", "--broker", CLEAR],
    "submit": ["submit", "nope.json", "--broker", CLEAR],
    "errors": ["errors", "list", "--broker", CLEAR],
    "refusals": ["refusals", "smoe", "--broker", CLEAR],
    "supervise": ["supervise", "--store", "sqlite:///{tmp}/s.sqlite3", "--broker", CLEAR],
    "ops": ["ops", "--data-dir", "{tmp}", "--broker", CLEAR],
    "broker setup": ["broker", "setup", "--broker", CLEAR, "--credentials", "{tmp}/c.json"],
    "simulate": ["simulate", "--broker", CLEAR],
    "bench": ["bench", "--broker", CLEAR, "--data-dir", "{tmp}"],
    "chaos": ["chaos", "--broker", CLEAR],
    "conformance": ["conformance", "smoe", "--broker", CLEAR],
}


def _argv(name: str, tmp_path) -> list[str]:
    return [a.replace("{tmp}", str(tmp_path)) for a in COMMANDS[name]]


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_tls_flag_with_an_amqp_url_is_refused_naming_the_flag_and_the_scheme(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for variable in ("GUICHET_TLS_CA", "GUICHET_TLS_CERT", "GUICHET_TLS_KEY", "GUICHET_TLS_SERVER_NAME"):
        monkeypatch.delenv(variable, raising=False)
    assert main([*_argv(name, tmp_path), "--tls-ca", str(tmp_path / "ca.pem")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    refusal = f"guichet {name.split()[0]}: --tls-ca: TLS options, but the broker URL is amqp://"
    assert len(err) == 1 and err[0].startswith(refusal)
    assert "clear text" in err[0] and "amqps://" in err[0]
    assert not (tmp_path / "s.sqlite3").exists() and not (tmp_path / "c.json").exists(), "refused before anything"


@pytest.mark.parametrize("name", ["errors", "run", "broker setup"])
def test_a_tls_variable_with_an_amqp_url_is_refused_naming_the_variable(name, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GUICHET_TLS_SERVER_NAME", "broker.example.org")
    assert main(_argv(name, tmp_path)) == 2
    err = capsys.readouterr().err
    assert "GUICHET_TLS_SERVER_NAME: TLS options, but the broker URL is amqp://, which connects in clear text" in err


def test_one_clear_text_url_of_a_failover_list_is_enough_to_refuse(tmp_path):
    tls = TLSSettings(ca=str(tmp_path / "ca.pem"), cert="c.pem", key="k.pem", origin={"ca": "--tls-ca"})
    with pytest.raises(
        TLSConfigError, match=r"^--tls-ca, tls cert, tls key: TLS options, but the broker URL is pyamqp://"
    ):
        tls.refuse_clear_text("amqps://a:5671//;pyamqp://b:5672//")
    tls.refuse_clear_text("amqps://a:5671//;amqps://b:5671//")  # TLS everywhere: accepted
    tls.refuse_clear_text("memory://")  # no network
    TLSSettings().refuse_clear_text(CLEAR)  # no TLS option: clear text as asked


def test_the_transport_refuses_too_for_a_process_built_without_the_command_line():
    tls = TLSSettings(ca="/ca.pem", origin={"ca": "GUICHET_TLS_CA"})
    with pytest.raises(TLSConfigError, match="GUICHET_TLS_CA: TLS options, but the broker URL is amqp://"):
        Bus(CLEAR, Topology(PARTIES), tls=tls).connect()
