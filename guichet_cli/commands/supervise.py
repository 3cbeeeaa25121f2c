"""`guichet supervise`: the supervision service, ingestion into its own store and the console."""

from __future__ import annotations

import argparse
import threading

from guichet_cli.commands.common import UsageError, account_url, add_broker, add_credentials, add_queue_type
from guichet_cli.settings import tls_from

ACCOUNT = "supervision"


def add_command(sub) -> None:
    p = sub.add_parser(
        "supervise",
        help="run the supervision service: audit copies, refusals and errors into its own store; the console",
        description="The supervision service, a consumer like the agencies: it takes the agencies' audit "
        "copies (what their journals record), the refusal notices and the error queue into a store of its "
        "own (--store), indexed for the console's questions, and serves the console on it. It never opens "
        "an agency's register. While it is down, its queues hold what it has not taken.",
    )
    p.add_argument(
        "--store",
        required=True,
        metavar="URL",
        help="the supervision store: sqlite:///PATH (embedded) or postgresql://... (schema `supervision`)",
    )
    add_broker(p)
    add_queue_type(p)
    add_credentials(p, ACCOUNT)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=8091, help="port of the console and /metrics (default: 8091)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
        from starlette.applications import Starlette
    except ImportError as exc:
        raise UsageError(f"the supervision service needs its web stack: pip install 'guichet[ops]' ({exc})") from None
    from guichet_operations.supervision.service import Supervisor
    from guichet_operations.supervision.status import status_routes
    from guichet_operations.supervision.store import Store

    tls = tls_from(args)  # a TLS option with an amqp:// URL is refused before the store is opened
    store = Store(args.store)
    supervisor = Supervisor(
        store,
        account_url(args.broker, args.credentials, ACCOUNT, args.user_prefix),
        namespace=args.namespace,
        queue_type=args.queue_type,
        tls=tls,
    )
    ingesting = threading.Thread(target=supervisor.run, name="supervision-ingestion", daemon=True)
    ingesting.start()
    app = Starlette(routes=status_routes(supervisor))
    print(f"guichet supervise: http://{args.host}:{args.port}/", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    finally:
        supervisor.stop()
        ingesting.join(timeout=10)
        store.close()
    return 0
