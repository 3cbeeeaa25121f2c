"""One configuration object for every command: built from the command's flags, each flag defaulting
to its GUICHET_* environment variable, and handed down to the runtime (the service's config, the
bus, the trust) and to the agencies (the directory of services).

    GUICHET_BROKER_URL      --broker            GUICHET_TLS_CA          --tls-ca
    GUICHET_NAMESPACE       --namespace         GUICHET_TLS_CERT        --tls-cert
    GUICHET_QUEUE_TYPE      --queue-type        GUICHET_TLS_KEY         --tls-key
    GUICHET_DATA_DIR        --data-dir          GUICHET_TLS_SERVER_NAME --tls-server-name
    GUICHET_DATABASE_URL    --database-url      GUICHET_KEY_DIRECTORY   --key-directory
    GUICHET_DIRECTORY       --directory         GUICHET_KEYS_DIR        --keys-dir

and, without flags, the bounds of a receiver's trust in a sender's clock (guichet/receipt.py):
GUICHET_CLOCK_TOLERANCE_SECONDS and GUICHET_FRESHNESS_WINDOW_DAYS. This is the one place that reads
the environment: the runtime is handed what is read here.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from pathlib import Path

from guichet.receipt import Freshness
from guichet.settings import SIGNING_VARIABLES, TLS_VARIABLES, SigningSettings, TLSSettings
from guichet_cli.usage import UsageError
from services.directory import Directory

TOLERANCE_VARIABLE = "GUICHET_CLOCK_TOLERANCE_SECONDS"
WINDOW_VARIABLE = "GUICHET_FRESHNESS_WINDOW_DAYS"
TLS_FLAGS = {"ca": "--tls-ca", "cert": "--tls-cert", "key": "--tls-key", "server_name": "--tls-server-name"}
SIGNING_FLAGS = {"key_directory": "--key-directory", "keys_dir": "--keys-dir"}


def add_tls(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "TLS (amqps:// URLs only: with an amqp:// URL these options, and their variables, are refused; "
        "the server's certificate and name are always verified)"
    )
    group.add_argument(
        "--tls-ca",
        metavar="FILE",
        help="CA bundle that signed the broker's certificate (default: $GUICHET_TLS_CA, else the system's)",
    )
    group.add_argument(
        "--tls-cert", metavar="FILE", help="client certificate, with --tls-key (default: $GUICHET_TLS_CERT)"
    )
    group.add_argument("--tls-key", metavar="FILE", help="its private key (default: $GUICHET_TLS_KEY)")
    group.add_argument(
        "--tls-server-name",
        metavar="NAME",
        help="name to check the broker's certificate against (default: $GUICHET_TLS_SERVER_NAME, else the URL's host)",
    )


def add_signing(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("signed messages")
    group.add_argument(
        "--key-directory",
        metavar="FILE",
        help="the shared directory of the parties' public keys: with it, what this process sends "
        "is signed and what it receives is checked (default: $GUICHET_KEY_DIRECTORY)",
    )
    group.add_argument("--keys-dir", metavar="DIR", help="this process's private keys (default: $GUICHET_KEYS_DIR)")


def add_directory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--directory",
        metavar="FILE",
        help="the directory of services (annex 1, the préfectures' lists, the 2021 platforms) "
        "replacing the one shipped (default: $GUICHET_DIRECTORY)",
    )


def _flag_or_variable(args: argparse.Namespace, name: str, flag: str, variable: str) -> tuple[str | None, str]:
    """The flag's value when given, else the variable's; and which of the two it came from."""
    value = getattr(args, name, None)
    if value:
        return value, flag
    return os.environ.get(variable) or None, variable


def tls_from(args: argparse.Namespace) -> TLSSettings:
    values, origin = {}, {}
    for name, flag in TLS_FLAGS.items():
        values[name], origin[name] = _flag_or_variable(args, f"tls_{name}", flag, TLS_VARIABLES[name])
    tls = TLSSettings(**values, origin=origin)
    # Refused here, before anything starts, as the transport would refuse it when connecting.
    tls.refuse_clear_text(getattr(args, "broker", None) or "")
    return tls


def freshness_from(environ: Mapping[str, str]) -> Freshness:
    """The defaults, or what `GUICHET_CLOCK_TOLERANCE_SECONDS` and `GUICHET_FRESHNESS_WINDOW_DAYS`
    say: a bus whose hosts' clocks are less well kept, or whose consumers may stay down longer
    than a year, widens them; each must be a positive number."""
    changes = {}
    for name, variable, unit in (("tolerance", TOLERANCE_VARIABLE, "seconds"), ("window", WINDOW_VARIABLE, "days")):
        text = environ.get(variable)
        if not text:
            continue
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not 0 < value < 1e6:
            raise UsageError(f"{variable}={text}: a positive number of {unit} below 1,000,000 is expected")
        changes[name] = timedelta(**{unit: value})
    return Freshness(**changes)


def signing_from(args: argparse.Namespace) -> SigningSettings:
    return SigningSettings(
        **{
            name: _flag_or_variable(args, name, flag, SIGNING_VARIABLES[name])[0]
            for name, flag in SIGNING_FLAGS.items()
        }
    )


@dataclass(frozen=True)
class Settings:
    broker: str | None
    namespace: str
    queue_type: str
    data_dir: Path
    database_url: str | None
    tls: TLSSettings
    signing: SigningSettings
    directory: str | None
    freshness: Freshness = Freshness()

    @cached_property
    def directory_of_services(self) -> Directory:
        """The directory of services the agencies of this process read: --directory's file, else the
        one shipped (services/directory.py)."""
        if not self.directory:
            return Directory.shipped()
        if not Path(self.directory).is_file():
            raise UsageError(f"--directory: {self.directory}: no such file")
        return Directory.from_file(self.directory)

    def child_environment(self) -> dict[str, str]:
        """The same settings for the service processes a tool starts (bench, chaos): as variables."""
        env = dict(os.environ)
        for name, variable in TLS_VARIABLES.items():
            if getattr(self.tls, name):
                env[variable] = getattr(self.tls, name)
        for name, variable in SIGNING_VARIABLES.items():
            if getattr(self.signing, name):
                env[variable] = getattr(self.signing, name)
        if self.directory:
            env["GUICHET_DIRECTORY"] = str(Path(self.directory).resolve())
        return env


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings(
        broker=getattr(args, "broker", None),
        namespace=getattr(args, "namespace", "guichet"),
        queue_type=getattr(args, "queue_type", "classic"),
        data_dir=Path(getattr(args, "data_dir", None) or "data"),
        database_url=getattr(args, "database_url", None),
        tls=tls_from(args),
        signing=signing_from(args),
        directory=_flag_or_variable(args, "directory", "--directory", "GUICHET_DIRECTORY")[0],
        freshness=freshness_from(os.environ),
    )
    _ = settings.directory_of_services  # a --directory that names no file is refused here, before anything starts
    return settings
