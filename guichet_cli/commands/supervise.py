"""`guichet supervise`: the supervision service, ingestion into its own store and the console;
`guichet supervise generate` fills a store for trying and measuring the console."""

from __future__ import annotations

import argparse
import os
import threading

from guichet.settings import SIGNING_VARIABLES
from guichet_cli.commands.common import UsageError, account_url, add_broker, add_credentials, add_queue_type
from guichet_cli.commands.supervise_console import add_console_options, auth_config_from, supervision_app
from guichet_cli.commands.supervise_generate import add_generate_command
from guichet_cli.settings import tls_from

ACCOUNT = "supervision"


def add_command(sub) -> None:
    p = sub.add_parser(
        "supervise",
        help="run the supervision service: audit copies, refusals and errors into its own store; the console",
        description="The supervision service, a consumer like the agencies: it takes the agencies' audit "
        "copies (what their journals record), the refusal notices and the error queue into a store of its "
        "own (--store), indexed for the console's questions, and serves the console on it, behind sign-in "
        "(accounts: `guichet console account`; OpenID Connect: --oidc-*). It never opens an agency's "
        "register. While it is down, its queues hold what it has not taken. /metrics, /livez and /readyz "
        "answer without sign-in.",
    )
    p.add_argument(
        "--store",
        metavar="URL",
        help="the supervision store: sqlite:///PATH (embedded) or postgresql://... (schema `supervision`)",
    )
    # Not required by the parser: `supervise generate` gives its own --store and needs no broker.
    add_broker(p, required=False)
    add_queue_type(p)
    add_credentials(p, ACCOUNT)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8091, help="port of the console and /metrics (default: 8091)")
    p.add_argument(
        "--retention-days",
        type=int,
        default=365,
        metavar="D",
        help="days a closed dossier (its records, tasks, notices) and a settled failure stay in the store "
        "after their last change (default: 365); a dossier still open, a failure still waiting stay",
    )
    p.add_argument(
        "--actions-retention-days",
        type=int,
        default=365,
        metavar="D",
        help="days the journal of operators' actions and sign-ins is kept (default: 365)",
    )
    p.add_argument(
        "--key-directory",
        default=os.environ.get(SIGNING_VARIABLES["key_directory"]) or None,
        metavar="FILE",
        help="the agencies' public keys, to check the signatures of their journal anchors (default: "
        f"${SIGNING_VARIABLES['key_directory']}); without it, anchors are checked against the records only",
    )
    add_console_options(p)
    p.set_defaults(func=run)
    add_generate_command(p.add_subparsers(dest="supervise_command", metavar="SUBCOMMAND"))


def run(args: argparse.Namespace) -> int:
    missing = [name for name, value in (("--store", args.store), ("--broker", args.broker)) if not value]
    if missing:
        raise UsageError(f"guichet supervise needs {' and '.join(missing)}")
    if args.retention_days < 1 or args.actions_retention_days < 1:
        raise UsageError("--retention-days and --actions-retention-days: at least 1")
    if args.key_directory and not os.path.isfile(args.key_directory):
        raise UsageError(f"--key-directory {args.key_directory}: no such file")
    tls = tls_from(args)  # a TLS option with an amqp:// URL is refused before anything is opened
    try:
        import uvicorn
    except ImportError as exc:
        raise UsageError(f"the supervision service needs its web stack: pip install 'guichet[ops]' ({exc})") from None
    from guichet.bus import Bus
    from guichet_operations.console.app import ConsoleConfig
    from guichet_operations.supervision.replay import BrokerActions
    from guichet_operations.supervision.retention import Retention
    from guichet_operations.supervision.service import Supervisor
    from guichet_operations.supervision.store import Store

    auth = auth_config_from(args)
    broker = account_url(args.broker, args.credentials, ACCOUNT, args.user_prefix)
    from guichet.key_directory import KeyDirectory

    store = Store(args.store)
    supervisor = Supervisor(
        store,
        broker,
        namespace=args.namespace,
        queue_type=args.queue_type,
        tls=tls,
        retention=Retention(store, args.retention_days, args.actions_retention_days),
        directory=KeyDirectory(args.key_directory) if args.key_directory else None,
    )

    def connect() -> Bus:  # the replay's own connection, apart from the ingestion's
        bus = Bus(broker, supervisor.topology, tls=supervisor.tls)
        bus.connect()
        return bus

    actions = BrokerActions(store, connect)
    ingesting = threading.Thread(target=supervisor.run, name="supervision-ingestion", daemon=True)
    ingesting.start()
    app = supervision_app(supervisor, store, ConsoleConfig(failure_actions=actions, auth=auth))
    print(f"guichet supervise: http://{args.host}:{args.port}/", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        supervisor.stop()
        ingesting.join(timeout=10)
        actions.close()
        store.close()
    return 0
