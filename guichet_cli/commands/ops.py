"""`guichet ops`: the operations view, a web page of the dossiers, deadlines, error queue and services."""

from __future__ import annotations

import argparse
from pathlib import Path

from guichet_cli.commands.common import (
    UsageError,
    account_url,
    add_clock,
    add_credentials,
    clock_from,
    require_rabbitmq,
)
from guichet_cli.settings import add_tls, tls_from
from schemas.base import AGENCIES

OPERATOR = "operateur"


def add_command(sub) -> None:
    p = sub.add_parser(
        "ops",
        help="serve the operations view (dossiers, deadlines, error queue, services)",
        description="Serve a web view for operations teams: the dossiers and where each stands, "
        "every open task by time left, a dossier's timeline and sequence diagram, the "
        "error queue with replay, archive and restore (through the operator's "
        "account, each action journalled), and the services' readiness. Read-only "
        "unless the operator acts.",
    )
    where = p.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir",
        metavar="DIR",
        help="folder of the agencies' SQLite registers and heartbeat files (default: ./data)",
    )
    where.add_argument("--database-url", metavar="URL", help="PostgreSQL URL of the registers, one schema per agency")
    p.add_argument("--broker", metavar="URL", help="RabbitMQ URL, for the error queue (without it /errors says so)")
    p.add_argument("--namespace", default="guichet", help="prefix of every exchange and queue name (default: guichet)")
    add_credentials(p, OPERATOR)
    add_tls(p)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8090, help="port to listen on (default: 8090)")
    p.add_argument(
        "--service",
        action="append",
        default=[],
        metavar="AGENCY=URL",
        help="an agency service's HTTP address (its --http-port), to show its /readyz and metrics; "
        "repeat for each, e.g. --service ofii=http://127.0.0.1:9101",
    )
    p.add_argument(
        "--actions-log",
        metavar="FILE",
        help="JSON lines journal of operator actions (default: DATA_DIR/ops-actions.jsonl, or "
        "./ops-actions.jsonl with --database-url)",
    )
    add_clock(p)
    p.set_defaults(func=run)


def service_urls(values: list[str]) -> dict[str, str]:
    urls = {}
    for value in values:
        agency, _, url = value.partition("=")
        if agency not in AGENCIES or not url.startswith(("http://", "https://")):
            raise UsageError(
                f"--service: {value!r} is not AGENCY=http://host:port with AGENCY one of {', '.join(AGENCIES)}"
            )
        urls[agency] = url
    return urls


def config_from(args: argparse.Namespace):
    from guichet_cli.settings import settings_from
    from guichet_operations.view.actions import ActionLog
    from guichet_operations.view.app import OpsConfig
    from guichet_operations.view.registers import Registers

    data_dir = None if args.database_url else Path(args.data_dir or "data")
    if data_dir is not None and not data_dir.is_dir():
        raise UsageError(f"--data-dir: {data_dir} is not a folder (expected the agencies' <agency>.sqlite3 there)")
    broker, account = None, "guest"
    if args.broker:
        require_rabbitmq(args.broker, "the error queue lives on RabbitMQ")
        broker = account_url(args.broker, args.credentials, OPERATOR, args.user_prefix)
        in_url = broker.split("://", 1)[1].split(":", 1)[0].split("@")[0] or "?"
        account = f"{args.user_prefix}{OPERATOR}" if args.credentials else in_url
    actions = Path(args.actions_log) if args.actions_log else (data_dir or Path(".")) / "ops-actions.jsonl"
    return OpsConfig(
        registers=Registers(data_dir, args.database_url),
        actions=ActionLog(actions),
        broker_url=broker,
        account=account,
        namespace=args.namespace,
        clock=clock_from(args),
        services=service_urls(args.service),
        tls=tls_from(args),
        directory=settings_from(args).directory_of_services,
    )


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from guichet_operations.view.app import create_app
    except ImportError as exc:
        raise UsageError(f"the operations view needs its web stack: pip install 'guichet[ops]' ({exc})") from None
    config = config_from(args)
    print(f"guichet ops: http://{args.host}:{args.port}/", flush=True)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="warning")
    return 0
