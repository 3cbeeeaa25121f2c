"""`guichet errors`: the operators' view of the error queue."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

from guichet.bus import Bus
from guichet.topology import Topology
from guichet_cli.commands.common import (
    UsageError,
    account_url,
    add_broker,
    add_credentials,
    add_queue_type,
    require_rabbitmq,
)
from guichet_cli.settings import tls_from
from guichet_operations.broker_permissions import OPERATOR
from guichet_operations.error_queue import ErrorQueue, Selection
from services.parties import PARTIES


def add_command(sub) -> None:
    p = sub.add_parser(
        "errors",
        help="list, show, replay or purge the error queue",
        description="Messages that failed every retry, or can never succeed, wait in the error "
        "queue with why they failed. Select them by id, by failure group "
        "(reason/exception/queue, as `list` prints it) or by time of last failure.",
    )
    esub = p.add_subparsers(dest="errors_command", required=True)
    for name, text in (
        ("list", "one line per failed message (or --json)"),
        ("show", "everything about the selected messages: context, history, traceback, body"),
        ("replay", "send the selected messages back to the queue they failed in, with their history"),
        ("purge", "delete the selected messages for good"),
    ):
        c = esub.add_parser(name, help=text, description=text)
        add_broker(c)
        add_queue_type(c)
        add_credentials(c, OPERATOR)
        c.add_argument("ids", nargs="*", metavar="ID", help="message ids")
        c.add_argument("--group", help="a failure group, e.g. handler_error/RuntimeError/guichet.ofii")
        c.add_argument("--since", metavar="ISO", help="last failure at or after this instant")
        c.add_argument("--until", metavar="ISO", help="last failure at or before this instant")
        c.add_argument("--json", action="store_true", help="JSON for scripts")
        if name in ("replay", "purge"):
            c.add_argument("--all", action="store_true", help="every message of the queue (no selection needed)")
        c.set_defaults(func=run)


def _instant(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option}: {value!r} is not an ISO 8601 date-time") from None
    if moment.tzinfo is None:
        raise UsageError(f"{option}: give a time zone, e.g. {value}+01:00")
    return moment


def run(args: argparse.Namespace) -> int:
    require_rabbitmq(args.broker, "the error queue lives on RabbitMQ; memory:// belongs to one process")
    selection = Selection(
        ids=args.ids, group=args.group, since=_instant(args.since, "--since"), until=_instant(args.until, "--until")
    )
    if any(not i.strip() for i in args.ids):
        raise UsageError("ID: an empty id selects nothing (give a message id, --group, --since or --until)")
    acting = args.errors_command in ("replay", "purge")
    if acting and not (args.ids or args.group or args.since or args.until or args.all):
        raise UsageError(f"{args.errors_command}: select messages (ID, --group, --since, --until) or say --all")
    broker = account_url(args.broker, args.credentials, OPERATOR, args.user_prefix)
    bus = Bus(broker, Topology(PARTIES, namespace=args.namespace, queue_type=args.queue_type), tls=tls_from(args))
    try:
        bus.declare()
        queue = ErrorQueue(bus)
        act = queue.replay if args.errors_command == "replay" else (lambda e: None) if acting else None
        entries = queue.browse(selection, act)
    finally:
        bus.close()
    if args.json:
        rows = [
            e.summary()
            | (
                {"traceback": e.traceback, "body": e.body.decode("utf-8", "replace")}
                if args.errors_command == "show"
                else {}
            )
            for e in entries
        ]
        print(
            json.dumps(
                {"command": args.errors_command, "count": len(rows), "messages": rows}, ensure_ascii=False, indent=2
            )
        )
        return 0
    if acting:
        print(f"{'replayed' if args.errors_command == 'replay' else 'purged'} {len(entries)} message(s)")
        return 0
    if args.errors_command == "list":
        doubles = sum(len(e.copies) for e in entries)
        print(
            f"{len(entries)} message(s) in {queue.queue_name}"
            + (f" ({doubles} duplicate filing(s) shown once)" if doubles else "")
        )
        for e in entries:
            print(
                f"  {e.id:<36} {e.type or '-':<38} {e.dossier_id or '-':<12} {e.group:<55} "
                f"attempts {e.attempts}  last {e.last_failure or '-'}"
            )
        return 0
    for e in entries:
        print(json.dumps(e.summary(), ensure_ascii=False, indent=2))
        print(e.traceback)
        print(e.body.decode("utf-8", "replace"))
    return 0
