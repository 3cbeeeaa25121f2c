"""`--credentials` on every command that connects as one account, finding the accounts `guichet
broker setup --user-prefix` made: tried on the real RabbitMQ, with a --broker URL whose own user
does not exist, so that only the account read from the file can connect."""

from __future__ import annotations

import json

import pytest

from guichet_cli.main import build_parser, main
from tests.integration.test_broker_permissions import accounts  # noqa: F401  (the fixture)

pytestmark = pytest.mark.broker

# The commands that play several parties at once with the URL they are given: they take no one
# account's credentials. (`broker setup|verify` connect as the administrator; their --credentials
# is the file they write or check, with the same --user-prefix.)
SEVERAL_ACCOUNTS = {"simulate", "bench", "chaos", "conformance"}


def _commands(parser, prefix: str = ""):
    """(name, parser) of every command, subcommands included (a command that has both options of its
    own and subcommands, as `supervise` and `bench`, is one too)."""
    for action in parser._actions:
        for name, sub in getattr(action, "choices", None).items() if action.nargs == "A..." else ():
            full = f"{prefix}{name}"
            yield full, sub
            if any(a.nargs == "A..." for a in sub._actions):
                yield from _commands(sub, f"{full} ")


def test_every_command_that_connects_as_one_account_takes_credentials_and_a_user_prefix():
    connecting = {
        name: {o for a in sub._actions for o in a.option_strings}
        for name, sub in _commands(build_parser())
        if any("--broker" in a.option_strings for a in sub._actions)
    }
    assert {"errors list", "errors replay", "refusals", "run", "submit", "ops", "supervise"} <= connecting.keys()
    lacking = {name for name, options in connecting.items() if "--credentials" not in options}
    assert lacking == SEVERAL_ACCOUNTS
    assert all("--user-prefix" in options for options in connecting.values() if "--credentials" in options)


def _url(accounts) -> str:  # noqa: F811
    return f"amqp://nobody:wrong@127.0.0.1:5672/{accounts.vhost}"


def test_errors_and_refusals_connect_as_the_prefixed_account_from_the_file(accounts, capsys):  # noqa: F811
    common = ["--namespace", accounts.namespace, "--credentials", str(accounts.credentials)]
    argv = ["errors", "list", "--broker", _url(accounts), *common, "--user-prefix", accounts.prefix, "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0
    argv = ["refusals", "smoe", "--broker", _url(accounts), *common, "--user-prefix", accounts.prefix, "--json"]
    assert main(argv) == 0
    assert json.loads(capsys.readouterr().out) == {"party": "smoe", "count": 0, "notices": []}


def test_the_prefix_may_come_from_the_environment(accounts, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setenv("GUICHET_USER_PREFIX", accounts.prefix)
    argv = ["errors", "list", "--broker", _url(accounts), "--namespace", accounts.namespace]
    assert main([*argv, "--credentials", str(accounts.credentials), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["count"] == 0


def test_without_the_prefix_the_error_names_the_prefix_the_file_holds(accounts, capsys, monkeypatch):  # noqa: F811
    monkeypatch.delenv("GUICHET_USER_PREFIX", raising=False)
    argv = ["errors", "list", "--broker", _url(accounts), "--credentials", str(accounts.credentials)]
    assert main(argv) == 2
    assert capsys.readouterr().err.strip() == (
        f"guichet errors: --credentials: {accounts.credentials} has no account 'operateur'; "
        f"it has 'operateur' with --user-prefix {accounts.prefix!r}"
    )


def _passwords(accounts) -> list[str]:  # noqa: F811
    return list(json.loads(accounts.credentials.read_text()).values())


@pytest.mark.parametrize("extra", [[], ["--json"]])
def test_broker_setup_prints_no_password_but_where_they_are(accounts, capsys, extra):  # noqa: F811
    assert accounts.cli("setup", *extra) == 0
    out = capsys.readouterr().out
    assert len(_passwords(accounts)) == 7 and not [p for p in _passwords(accounts) if p in out]
    where = str(accounts.credentials.resolve())
    if extra:
        shown = json.loads(out)
        assert shown["credentials"] == where and shown["passwords_shown"] is False
        smoe = next(a for a in shown["accounts"] if a["user"] == accounts.user("smoe"))
        assert smoe["url"] == f"amqp://{accounts.user('smoe')}@127.0.0.1:5672/{accounts.vhost}"
    else:
        assert f"passwords kept in {where} (mode 0600); --credentials reads them" in out


def test_broker_setup_prints_the_passwords_only_when_asked(accounts, capsys):  # noqa: F811
    assert accounts.cli("setup", "--json", "--show-passwords") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["passwords_shown"] is True
    assert sorted(a["url"] for a in shown["accounts"]) == sorted(accounts.url(a["role"]) for a in shown["accounts"]), (
        "each URL with its account's password, as the services would connect"
    )
