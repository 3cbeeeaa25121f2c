"""What a process is configured with for TLS and signatures, as the command line builds it (from its
flags and their GUICHET_* defaults: guichet_cli/settings.py); the runtime reads no environment. An
error names where the bad value came from (`origin`: the flag or the variable), so that the operator
knows what to fix."""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from guichet.configuration import ConfigurationError

if TYPE_CHECKING:
    from guichet.trust import Trust

# The variables a command reads as its flags' defaults (guichet_cli/settings.py); named here because a
# process a tool starts without flags (a benchmark's relay) reads the same ones.
TLS_VARIABLES = {
    "ca": "GUICHET_TLS_CA",
    "cert": "GUICHET_TLS_CERT",
    "key": "GUICHET_TLS_KEY",
    "server_name": "GUICHET_TLS_SERVER_NAME",
}
# The schemes of RabbitMQ URLs without TLS: TLS settings given with one of them are refused.
CLEAR_TEXT_SCHEMES = ("amqp", "pyamqp")
SIGNING_VARIABLES = {"key_directory": "GUICHET_KEY_DIRECTORY", "keys_dir": "GUICHET_KEYS_DIR"}


class TLSConfigError(ConfigurationError):
    """A TLS file that does not exist, or a client certificate without its key."""


@dataclass(frozen=True)
class TLSSettings:
    """For `amqps://` URLs. ca: the CA bundle that signed the broker's certificate (default: the
    system's); cert and key: the client certificate and its key, both or neither; server_name: the
    name to send (SNI) and to check the certificate against (default: the URL's host, taken here
    because kombu would rewrite `localhost` to 127.0.0.1 first). The server's certificate and name
    are always verified."""

    ca: str | None = None
    cert: str | None = None
    key: str | None = None
    server_name: str | None = None
    # Where each value came from, for error messages: the flag or the variable.
    origin: Mapping[str, str] = field(default_factory=dict, compare=False)

    @classmethod
    def from_variables(cls, variables: Mapping[str, str]) -> TLSSettings:
        """The GUICHET_TLS_* values of the mapping its caller hands over (the runtime reads none)."""
        values: dict[str, Any] = {name: variables.get(variable) or None for name, variable in TLS_VARIABLES.items()}
        return cls(**values, origin=dict(TLS_VARIABLES))

    def _named(self, name: str) -> str:
        return self.origin.get(name, f"tls {name}")

    def refuse_clear_text(self, url: str) -> None:
        """TLS settings are for `amqps://` URLs: given with an `amqp://` one they would be ignored and
        the bus would connect in clear text, so they are refused, naming the setting and the scheme.
        Each URL of a failover list (`;`-separated) is checked; memory:// has no network to protect."""
        given = [name for name in TLS_VARIABLES if getattr(self, name)]
        if not given:
            return
        for one in url.split(";"):
            scheme = urlsplit(one.strip()).scheme
            if scheme in CLEAR_TEXT_SCHEMES:
                named = ", ".join(self._named(name) for name in given)
                raise TLSConfigError(
                    f"{named}: TLS options, but the broker URL is {scheme}://, which connects in clear text: "
                    f"use amqps:// (port 5671) for TLS, or drop {named}"
                )

    def options(self, url: str) -> dict[str, Any]:
        """kombu's `ssl` argument for an `amqps://` URL, in the dict form py-amqp 5 turns into an SSLContext."""
        options: dict[str, Any] = {
            "cert_reqs": ssl.CERT_REQUIRED,
            "server_hostname": self.server_name or urlsplit(url).hostname,
        }
        for name, key in (("ca", "ca_certs"), ("cert", "certfile"), ("key", "keyfile")):
            path = getattr(self, name)
            if path:
                if not os.path.isfile(path):
                    raise TLSConfigError(f"{self._named(name)}={path}: no such file")
                options[key] = path
        if ("certfile" in options) != ("keyfile" in options):
            raise TLSConfigError(f"{self._named('cert')} and {self._named('key')} go together: set both or neither")
        return options


@dataclass(frozen=True)
class SigningSettings:
    """key_directory: the shared directory of the parties' public keys; with it, every envelope is
    signed on its way out and checked on its way in. keys_dir: this process's private keys, one
    folder or several separated by `:` (the DT-OFII's own and, when it plays the employers and the
    worker, the portal's)."""

    key_directory: str | None = None
    keys_dir: str | None = None

    def keys_dirs(self) -> list[Path]:
        return [Path(p) for p in (self.keys_dir or "").split(os.pathsep) if p]

    def trust(self) -> Trust | None:
        if not self.key_directory:
            return None
        from guichet.key_directory import KeyDirectory
        from guichet.trust import Trust

        if not Path(self.key_directory).is_file():
            raise ConfigurationError(f"key directory {self.key_directory}: no such file (guichet keys init writes one)")
        return Trust(KeyDirectory(self.key_directory), self.keys_dirs())
