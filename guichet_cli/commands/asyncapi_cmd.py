"""`guichet asyncapi`: the AsyncAPI 3.0 document of the bus, for connectors and catalogues."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from guichet.topology import Topology
from guichet_cli.commands.common import add_queue_type
from guichet_operations.asyncapi import asyncapi_document
from guichet_operations.asyncapi_conversations import conversation_operations, conversations_markdown
from guichet_simulation.conversations import record_conversations
from schemas.catalogue import message_registry
from services.parties import PARTIES


def add_command(sub) -> None:
    p = sub.add_parser(
        "asyncapi",
        help="write the AsyncAPI 3.0 document of the bus",
        description="Generate the AsyncAPI 3.0 document of the bus from the message registry and "
        "the topology: every exchange and queue with the arguments the bus declares them with, "
        "every message with its JSON Schema, headers, example, version, sender and recipient, the "
        "error, wait and late paths with the reasons a message is refused, the clock, and the "
        "broker's security schemes.",
    )
    p.add_argument("--out", metavar="FILE", help="write it there (default: standard output)")
    p.add_argument("--namespace", default="guichet", help="prefix of every exchange and queue name (default: guichet)")
    p.add_argument("--vhost", default="/", help="the broker's virtual host (default: /)")
    p.add_argument(
        "--conversations",
        metavar="FILE",
        help="also write each title's conversation as Markdown there (docs/conversations.md)",
    )
    add_queue_type(p)  # the queues' arguments depend on it
    p.set_defaults(func=run)


def conversations() -> list[dict]:
    """Recorded from a run of the embedded simulation, one dossier per title."""
    return [c.as_dict(PARTIES.agencies) for c in record_conversations()]


def document(namespace: str = "guichet", vhost: str = "/", queue_type: str = "classic") -> dict:
    topology = Topology(PARTIES, namespace=namespace, queue_type=queue_type)
    operations = conversation_operations(conversations())
    return asyncapi_document(message_registry(), topology, vhost=vhost, conversations=operations)


def write_conversations(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(conversations_markdown(conversations()))


def write(path: Path, namespace: str = "guichet", vhost: str = "/", queue_type: str = "classic") -> dict:
    doc = document(namespace, vhost, queue_type)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False))
    return doc


def run(args: argparse.Namespace) -> int:
    if args.conversations:
        write_conversations(Path(args.conversations))
    if args.out:
        doc = write(Path(args.out), args.namespace, args.vhost, args.queue_type)
        print(
            f"wrote AsyncAPI {doc['asyncapi']}: {len(doc['channels'])} channels, "
            f"{len(doc['components']['messages'])} messages to {args.out}"
        )
    else:
        json.dump(document(args.namespace, args.vhost, args.queue_type), sys.stdout, indent=2, ensure_ascii=False)
        print()
    return 0
