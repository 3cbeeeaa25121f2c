"""`guichet supervise`'s console options become the sign-in's configuration, and what cannot work is
refused naming the option (issue 22: people logged in; sensible and safe defaults)."""

import pytest

from guichet_cli.commands.common import UsageError
from guichet_cli.commands.supervise_console import auth_config_from
from guichet_cli.main import build_parser


def args(*extra: str):
    return build_parser().parse_args(["supervise", "--store", "sqlite:///x", "--broker", "amqp://h//", *extra])


def test_the_public_address_gives_the_host_accepted_and_https_the_secure_cookie(tmp_path, monkeypatch):
    monkeypatch.delenv("GUICHET_CONSOLE_SECRET", raising=False)
    secret = tmp_path / "secret"
    secret.write_text("k" * 40 + "\n")
    config = auth_config_from(args("--public-url", "https://supervision.example.gouv.fr/",
                                   "--allowed-host", "supervision", "--session-secret-file", str(secret)))  # fmt: skip
    assert config.allowed_hosts == ["supervision.example.gouv.fr", "supervision"]
    assert config.https_only and config.session_secret == "k" * 40 and config.oidc is None
    plain = auth_config_from(args("--port", "9000"))
    assert plain.allowed_hosts == ["127.0.0.1"] and not plain.https_only and len(plain.session_secret) >= 32


def test_openid_connect_needs_its_three_settings_and_sends_people_back_to_the_public_address(tmp_path, monkeypatch):
    monkeypatch.delenv("GUICHET_CONSOLE_OIDC_CLIENT_SECRET", raising=False)
    with pytest.raises(UsageError, match="--oidc-client-id, --oidc-client-secret-file"):
        auth_config_from(args("--oidc-issuer", "https://idp.example.gouv.fr"))
    monkeypatch.setenv("GUICHET_CONSOLE_OIDC_CLIENT_SECRET", "s3cret")
    config = auth_config_from(args("--public-url", "https://c.example.gouv.fr/", "--oidc-issuer", "https://idp",
                                   "--oidc-client-id", "console"))  # fmt: skip
    assert config.oidc.client_secret == "s3cret"
    assert config.oidc.redirect_uri == "https://c.example.gouv.fr/connexion/oidc/retour"


@pytest.mark.parametrize(
    "extra, message",
    [
        (("--public-url", "ftp://x/"), "--public-url"),
        (("--session-secret-file", "/nonexistent/secret"), "--session-secret-file"),
        (("--host", "0.0.0.0"), "--public-url: needed when listening on every interface"),
    ],
)
def test_what_cannot_work_is_refused_naming_the_option(extra, message):
    with pytest.raises(UsageError, match=message):
        auth_config_from(args(*extra))


def test_an_empty_secret_file_is_refused(tmp_path):
    empty = tmp_path / "empty"
    empty.write_text("")
    with pytest.raises(UsageError, match="is empty"):
        auth_config_from(args("--session-secret-file", str(empty)))
