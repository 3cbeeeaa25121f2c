"""Options shared by several subcommands."""

from __future__ import annotations

import argparse
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

from guichet.clock import Clock, ScaledClock, SystemClock
from guichet_cli.settings import add_tls
from guichet_cli.usage import UsageError  # noqa: F401  (the commands import it from here)
from schemas.base import AGENCIES

DEFAULT_BROKER = "amqp://guest:guest@127.0.0.1:5672//"


def add_broker(parser: argparse.ArgumentParser, required: bool = True) -> None:
    from_environment = os.environ.get("GUICHET_BROKER_URL") or None
    parser.add_argument(
        "--broker",
        required=required and from_environment is None,
        default=from_environment,
        metavar="URL",
        help="broker URL: amqp://user:pass@host:5672/vhost for RabbitMQ, amqps://...:5671/... "
        "over TLS (see the TLS options), memory:// in-process; a cluster as a failover "
        "list 'amqp://a;amqp://b;amqp://c' (default: $GUICHET_BROKER_URL)",
    )
    parser.add_argument(
        "--namespace",
        default=os.environ.get("GUICHET_NAMESPACE") or "guichet",
        help="prefix of every exchange and queue name (default: $GUICHET_NAMESPACE or guichet)",
    )
    add_tls(parser)


RABBITMQ_SCHEMES = ("amqp", "amqps", "pyamqp")


def require_rabbitmq(url: str, why: str) -> None:
    """Refuse a broker URL that is not RabbitMQ's (e.g. memory://), saying why this command needs it.
    Each URL of a failover list (`;`-separated) is checked."""
    for one in url.split(";"):
        if urlsplit(one.strip()).scheme not in RABBITMQ_SCHEMES:
            raise UsageError(f"--broker must be an amqp:// or amqps:// URL, not {one.strip()!r}: {why}")


QUEUE_TYPE_VARIABLE = "GUICHET_QUEUE_TYPE"


def add_queue_type(parser: argparse.ArgumentParser) -> None:
    """Every command that declares the topology says which queue type it expects: the first process
    to declare must not decide it silently for the others, and a queue found with another type is
    an error naming it (exit 5)."""
    # A string default goes through `type` too: a wrong GUICHET_QUEUE_TYPE is refused like a wrong option.
    parser.add_argument(
        "--queue-type",
        type=_queue_type,
        default=os.environ.get(QUEUE_TYPE_VARIABLE) or "classic",
        metavar="{classic,quorum}",
        help="type of every queue of the bus: classic for one broker, quorum for a RabbitMQ "
        f"cluster (replicated, survives a node loss); default: ${QUEUE_TYPE_VARIABLE} or "
        "classic. All processes of one bus must agree; a queue of another type is refused",
    )


def _queue_type(value: str) -> str:
    if value not in ("classic", "quorum"):
        raise argparse.ArgumentTypeError(f"{value!r}: choose classic or quorum (also ${QUEUE_TYPE_VARIABLE})")
    return value


def add_clock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--time-scale",
        type=float,
        default=1.0,
        metavar="X",
        help="compress time X times, e.g. 86400 for one day per second (default: 1, real time)",
    )
    parser.add_argument(
        "--clock-origin",
        metavar="ISO",
        help="instant at which compressed and real time agree; every process of one bus "
        "must share it (default: today 00:00 UTC)",
    )


def clock_from(args: argparse.Namespace) -> Clock:
    if args.time_scale == 1.0:
        return SystemClock()
    if args.time_scale <= 0:
        raise UsageError("--time-scale must be positive")
    if args.clock_origin:
        try:
            origin = datetime.fromisoformat(args.clock_origin)
        except ValueError:
            raise UsageError(f"--clock-origin: {args.clock_origin!r} is not an ISO 8601 date-time") from None
    else:
        origin = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return ScaledClock(args.time_scale, origin)


def add_data(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("GUICHET_DATA_DIR") or "data",
        metavar="DIR",
        help="folder of the agencies' SQLite registers, <agency>.sqlite3 (default: $GUICHET_DATA_DIR or ./data)",
    )
    parser.add_argument(
        "--database-url",
        metavar="URL",
        default=os.environ.get("GUICHET_DATABASE_URL") or None,
        help="PostgreSQL URL (postgresql://...) instead of SQLite; one schema per agency "
        "(default: $GUICHET_DATABASE_URL)",
    )


def registers_named(args: argparse.Namespace) -> list[str]:
    """The agencies whose registers a command works on: those named, else every register found
    (on PostgreSQL, every agency). An unknown agency, or a register missing from --data-dir, is
    named before anything is opened."""

    def found(agency: str) -> bool:
        return bool(args.database_url) or (Path(args.data_dir) / f"{agency}.sqlite3").is_file()

    agencies = args.agencies or [a for a in AGENCIES if found(a)]
    unknown = [a for a in agencies if a not in AGENCIES]
    if unknown:
        raise UsageError(f"unknown agency {unknown[0]!r}: choose from {', '.join(AGENCIES)}")
    if not agencies:
        raise UsageError(f"no agency register in {args.data_dir}")
    missing = [a for a in agencies if not found(a)]
    if missing:
        raise UsageError(f"no register for {missing[0]} in {args.data_dir}")
    return agencies


def agency_choice(value: str) -> str:
    if value not in AGENCIES:
        raise argparse.ArgumentTypeError(f"unknown agency {value!r}: choose from {', '.join(AGENCIES)}")
    return value


USER_PREFIX_VARIABLE = "GUICHET_USER_PREFIX"


def add_credentials(parser: argparse.ArgumentParser, account: str) -> None:
    """--credentials and --user-prefix: the account `guichet broker setup` made for this process,
    read from the passwords file it wrote. One file may hold the accounts of several buses (one
    setup per --user-prefix), so the prefix is given here as it was to setup, not guessed."""
    parser.add_argument(
        "--credentials",
        metavar="FILE",
        help=f"the passwords file written by `guichet broker setup`: connect to --broker's host "
        f"as this process's own account ({account}), not with the URL's user",
    )
    parser.add_argument(
        "--user-prefix",
        default=os.environ.get(USER_PREFIX_VARIABLE) or "",
        metavar="PREFIX",
        help="with --credentials: the prefix `broker setup --user-prefix` gave the account names, "
        f"e.g. 'recette-' for the account recette-<role> (default: ${USER_PREFIX_VARIABLE}, else none)",
    )


def account_url(broker: str, credentials: str | None, account: str, user_prefix: str = "") -> str:
    """--broker with the account's own user (`<user_prefix><account>`) and password from the
    credentials file, if one is given."""
    if not credentials:
        return broker
    try:
        passwords = json.loads(Path(credentials).read_text())
    except FileNotFoundError:
        raise UsageError(f"--credentials: {credentials}: no such file (run `guichet broker setup` first)") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"--credentials: {credentials}: {exc}") from None
    user = f"{user_prefix}{account}"
    if not isinstance(passwords, dict) or user not in passwords:
        raise UsageError(f"--credentials: {credentials} has no account {user!r}" + _prefixes_hint(passwords, account))
    return ";".join(_with_user(url.strip(), user, passwords[user]) for url in broker.split(";") if url.strip())


def _prefixes_hint(passwords: object, account: str) -> str:
    """The prefixes under which the file does hold this account, for the operator to give one."""
    names = passwords if isinstance(passwords, dict) else {}
    prefixes = sorted(repr(name[: -len(account)]) for name in names if name.endswith(account))
    if not prefixes:
        return ""
    return f"; it has {account!r} with --user-prefix {' or '.join(prefixes)}"


def _with_user(url: str, account: str, password: str) -> str:
    """One URL of a failover list with the account's user and password."""
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    netloc = f"{quote(account, safe='')}:{quote(password, safe='')}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def whole_number_between(low: int, high: int, noun: str):
    """An argparse type: a whole number from `low` to `high`, refused naming what it should be."""

    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not {noun}") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not {noun} ({low}-{high})")
        return number

    return parse


# AMQP's prefetch count is a 16-bit number; 0 would mean no limit, which a batch cannot have.
prefetch_count = whole_number_between(1, 65535, "a number of deliveries")
