"""The options and opening shared by the commands that read or erase personal data everywhere the
bus keeps it (`guichet dossier export|erase`, `guichet retention run`): the registers (--data-dir or
--database-url), the broker's error queue and archive (--broker, optional, through the operator's
account), the supervision store (--store, optional)."""

from __future__ import annotations

import argparse
import getpass
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from guichet.register import Register
from guichet.topology import Topology
from guichet_cli.commands.common import (
    UsageError,
    account_url,
    add_broker,
    add_credentials,
    add_data,
    add_queue_type,
    registers_named,
    require_rabbitmq,
)
from guichet_cli.settings import tls_from
from guichet_operations.broker_permissions import OPERATOR
from guichet_operations.erasure_run import Places
from services.parties import PARTIES

STORE_VARIABLE = "GUICHET_SUPERVISION_STORE"


def add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        metavar="URL",
        default=os.environ.get(STORE_VARIABLE) or None,
        help="the supervision store too: sqlite:///PATH or postgresql://... (default: "
        f"${STORE_VARIABLE}; without it the store is left alone)",
    )


def add_places(parser: argparse.ArgumentParser) -> None:
    """Registers, broker (optional) and store (optional)."""
    parser.add_argument(
        "--agency",
        dest="agencies",
        action="append",
        default=[],
        metavar="AGENCY",
        help="this agency's register only (repeatable; default: every register found)",
    )
    add_data(parser)
    add_broker(parser, required=False)
    add_queue_type(parser)
    add_credentials(parser, OPERATOR)
    add_store(parser)


def add_decided_by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by",
        metavar="NAME",
        help="who decided, as the erasure journal records it (default: the account running the command)",
    )


def decided_by(args: argparse.Namespace) -> str:
    who = (args.by or getpass.getuser() or "").strip()
    if not who:
        raise UsageError("--by: say who decided the erasure")
    return who


def instant(value: str | None, option: str) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise UsageError(f"{option}: give a time zone, e.g. {value}+00:00")
    return moment


@contextmanager
def opened(args: argparse.Namespace) -> Iterator[Places]:
    """The registers named (or found), the broker and the store if given; all closed at the end."""
    from guichet.bus import Bus
    from guichet_operations.supervision.store import Store

    agencies = registers_named(args)
    if args.broker:
        require_rabbitmq(args.broker, "the error queue and its archive live on RabbitMQ")
    places = Places({})
    try:
        for agency in agencies:
            places.registers[agency] = Register.for_agency(agency, args.data_dir, args.database_url)
        if args.broker:
            broker = account_url(args.broker, args.credentials, OPERATOR, args.user_prefix)
            topology = Topology(PARTIES, namespace=args.namespace, queue_type=args.queue_type)
            places.bus = Bus(broker, topology, tls=tls_from(args))
            places.bus.declare()
        if args.store:
            places.store = Store(args.store)
        yield places
    finally:
        for register in places.registers.values():
            register.close()
        if places.bus is not None:
            places.bus.close()
        if places.store is not None:
            places.store.close()
