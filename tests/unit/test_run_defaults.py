"""`guichet run`'s production defaults: nothing simulated unless asked, the status listener on this
machine only, signatures required on demand; the tools that drive a whole bus turn the simulated
people on for their services."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from guichet.configuration import ConfigurationError
from guichet.metrics import Metrics
from guichet.settings import SigningSettings
from guichet.status_server import ServiceStatus
from guichet_cli.commands.run import is_rabbitmq, require_own_key
from guichet_cli.main import build_parser
from guichet_simulation.launcher import ServiceProcesses


def parse(*args: str):
    return build_parser().parse_args(["run", "ofii", "--broker", "amqp://guest:guest@127.0.0.1:5672//", *args])


def test_nothing_is_simulated_and_the_status_stays_on_this_machine_unless_asked(monkeypatch):
    monkeypatch.delenv("GUICHET_HTTP_HOST", raising=False)
    monkeypatch.delenv("GUICHET_REQUIRE_SIGNATURES", raising=False)
    args = parse()
    assert (args.simulated_actors, args.http_host, args.require_signatures) == (False, "127.0.0.1", False)
    assert parse("--simulated-actors").simulated_actors
    assert not parse("--no-simulated-actors").simulated_actors  # deprecated, still accepted
    assert not parse("--simulated-actors", "--no-simulated-actors").simulated_actors  # the last one wins
    assert parse("--http-host", "0.0.0.0").http_host == "0.0.0.0"
    assert ServiceStatus(Metrics("ofii")).host == "127.0.0.1"


def test_the_environment_can_require_signatures_and_move_the_listener(monkeypatch):
    monkeypatch.setenv("GUICHET_REQUIRE_SIGNATURES", "1")
    monkeypatch.setenv("GUICHET_HTTP_HOST", "0.0.0.0")
    args = parse()
    assert args.require_signatures and args.http_host == "0.0.0.0"


def test_signatures_required_need_a_directory_and_a_key_of_the_agency(tmp_path):
    with pytest.raises(ConfigurationError, match="no key directory"):
        require_own_key(SigningSettings(), "ofii")
    with pytest.raises(ConfigurationError, match="no such file"):
        require_own_key(SigningSettings(key_directory=str(tmp_path / "missing.json")), "ofii")
    from guichet_cli.main import main

    assert (
        main(
            [
                "--log-level",
                "error",
                "keys",
                "init",
                "--keys-root",
                str(tmp_path / "keys"),
                "--directory",
                str(tmp_path / "directory.json"),
            ]
        )
        == 0
    )
    directory = str(tmp_path / "directory.json")
    with pytest.raises(ConfigurationError, match="no valid key of ofii"):
        require_own_key(SigningSettings(key_directory=directory, keys_dir=str(tmp_path / "keys" / "smoe")), "ofii")
    require_own_key(SigningSettings(key_directory=directory, keys_dir=str(tmp_path / "keys" / "ofii")), "ofii")
    both = f"{tmp_path / 'keys' / 'smoe'}:{tmp_path / 'keys' / 'ofii'}"  # several folders, `:`-separated
    require_own_key(SigningSettings(key_directory=directory, keys_dir=both), "ofii")


def test_only_rabbitmq_urls_call_for_the_unsigned_warning():
    assert is_rabbitmq("amqp://a//") and is_rabbitmq("memory://;amqps://b//")
    assert not is_rabbitmq("memory://") and not is_rabbitmq(None)


def test_the_launcher_turns_simulated_actors_on_and_one_agency_can_turn_them_off(tmp_path):
    fleet = ServiceProcesses(
        "amqp://x//", "ns", tmp_path, 1.0, datetime.now(UTC), agency_options={"smoe": ["--no-simulated-actors"]}
    )
    for agency, simulated in (("ofii", True), ("smoe", False)):
        command = fleet.command(agency)
        assert build_parser().parse_args(command[3:]).simulated_actors is simulated, command
    quiet = ServiceProcesses("amqp://x//", "ns", tmp_path, 1.0, datetime.now(UTC), simulated_actors=False)
    assert "--simulated-actors" not in quiet.command("ofii")
