"""`guichet refusals PARTY`: a party's refusal notices (guichet/refusals.py), as its integrator or an
operator reads them, with the party's own account (the only one that may read its refusal queue)."""

from __future__ import annotations

import argparse
import json
from typing import Any

from amqp.exceptions import NotFound

from guichet.bus import Bus
from guichet.configuration import ConfigurationError
from guichet.topology import Topology
from guichet_cli.commands.common import (
    account_url,
    add_broker,
    add_credentials,
    require_rabbitmq,
    whole_number_between,
)
from guichet_cli.settings import tls_from
from services.parties import PARTIES


def add_command(sub) -> None:
    p = sub.add_parser(
        "refusals",
        help="read a party's refusal notices: which of its messages were refused, and why",
        description="Each message an agency refuses is filed in the error queue and notified to the party "
        "whose account published it, in <namespace>.<party>.refusals. Connect with that party's own "
        "account (--broker amqp://p-smoe:...@host/vhost, or --credentials FILE --user-prefix p-). "
        "The notices are left in the queue unless --ack.",
    )
    p.add_argument("party", choices=PARTIES.notified, metavar="PARTY", help=", ".join(PARTIES.notified))
    add_broker(p)
    add_credentials(p, "the party's, PARTY")
    limit = whole_number_between(1, 100_000, "a number of notices")
    p.add_argument("--limit", type=limit, default=100, help="at most N notices (default 100)")
    p.add_argument("--ack", action="store_true", help="take the notices shown out of the queue")
    p.add_argument("--json", action="store_true", help="JSON for scripts")
    p.set_defaults(func=run)


def read(bus: Bus, party: str, limit: int, ack: bool) -> list[dict[str, Any]]:
    """Up to `limit` notices, oldest first; left in the queue (in order) unless `ack`."""
    queue, notices = bus.topology.refusal_queue_name(party), []
    channel = bus.consuming.channel()
    try:
        while len(notices) < limit and (message := channel.basic_get(queue, no_ack=False)) is not None:
            try:
                notices.append(json.loads(message.body))
            except ValueError:  # not a notice an agency wrote: shown as it is
                notices.append({"unreadable": bytes(message.body).decode("utf-8", "replace")[:500]})
            if ack:
                channel.basic_ack(message.delivery_tag)
    finally:
        channel.close()  # what was not acked goes back to the queue
    return notices


def run(args: argparse.Namespace) -> int:
    require_rabbitmq(args.broker, "the refusal queues live on RabbitMQ; memory:// belongs to one process")
    broker = account_url(args.broker, args.credentials, args.party, args.user_prefix)
    bus = Bus(broker, Topology(PARTIES, namespace=args.namespace), tls=tls_from(args))
    try:
        bus.connect()
        notices = read(bus, args.party, args.limit, args.ack)
    except NotFound as exc:
        raise ConfigurationError(
            f"no refusal queue {bus.topology.refusal_queue_name(args.party)} (declared by `guichet broker setup` "
            f"or the agencies' services; check --namespace and the vhost): {exc}"
        ) from None
    finally:
        bus.close()
    if args.json:
        shown = {"party": args.party, "count": len(notices), "notices": notices}
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return 0
    print(f"{len(notices)} refusal notice(s) for {args.party}" + (" (taken out of the queue)" if args.ack else ""))
    for n in notices:
        print(
            f"  {n.get('refused_at', '-')}  {n.get('message_id', '-'):<36} {n.get('type') or '-':<38} "
            f"{n.get('reason', '-'):<20} by {n.get('refused_by', '-')}: {n.get('error', n.get('unreadable', ''))}"
        )
        for error in n.get("errors") or []:
            print(f"      {error}")
    return 0
