"""`guichet run AGENCY`: one agency as a long-running consumer process."""
from __future__ import annotations

import argparse
from pathlib import Path

from guichet.commands.common import (
    account_url, add_broker, add_clock, add_credentials, add_data, add_queue_type, agency_choice, clock_from,
)
from guichet.serve import Service, ServiceConfig, healthy


def register(sub) -> None:
    p = sub.add_parser("run", help="run one agency's service on the broker until SIGTERM",
                       description="Run one agency (ofii, smoe, consulat, prefecture) as a consumer of its own "
                                   "durable queue. Until the agency's back-office sends its acts on the bus, "
                                   "simulated actors play them from the facts carried with each filing.")
    p.add_argument("agency", type=agency_choice, help="ofii, smoe, consulat or prefecture")
    add_broker(p)
    add_credentials(p, "the agency's")
    add_data(p)
    add_clock(p)
    add_queue_type(p)
    p.add_argument("--no-simulated-actors", action="store_true",
                   help="the agency's back-office sends the people's acts itself; nothing is simulated")
    p.add_argument("--prefetch", type=int, default=20, help="unacknowledged deliveries at once (default: 20)")
    p.set_defaults(func=run)

    h = sub.add_parser("health", help="exit 0 when an agency's service loop is alive (for healthchecks)")
    h.add_argument("agency", type=agency_choice, help="ofii, smoe, consulat or prefecture")
    h.add_argument("--data-dir", default="data", metavar="DIR")
    h.add_argument("--max-age", type=float, default=30.0, help="seconds since the loop's last heartbeat")
    h.set_defaults(func=health)


def run(args: argparse.Namespace) -> int:
    broker = account_url(args.broker, args.credentials, args.agency)
    config = ServiceConfig(agency=args.agency, broker_url=broker, clock=clock_from(args),
                           data_dir=Path(args.data_dir), database_url=args.database_url,
                           namespace=args.namespace, queue_type=args.queue_type,
                           simulate_actors=not args.no_simulated_actors, prefetch=args.prefetch)
    Service(config).run()
    return 0


def health(args: argparse.Namespace) -> int:
    ok = healthy(args.agency, Path(args.data_dir), args.max_age)
    print(f"{args.agency}: {'alive' if ok else 'not alive'}")
    return 0 if ok else 1
