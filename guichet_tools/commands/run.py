"""`guichet run AGENCY`: one agency as a long-running consumer process."""
from __future__ import annotations

import argparse
import os
import urllib.error
import urllib.request
from pathlib import Path

from guichet_tools.commands.common import (
    account_url, add_broker, add_clock, add_credentials, add_data, add_queue_type, agency_choice, clock_from,
    prefetch_count, whole_number_between,
)
from guichet import tracing
from guichet.serve import DEFAULT_PREFETCH, Service, ServiceConfig, healthy
from guichet_tools.settings import add_directory, add_signing, settings_from
from services.parties import PARTIES
from services.registry import definitions


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
    add_signing(p)
    add_directory(p)
    p.add_argument("--no-simulated-actors", action="store_true",
                   help="the agency's back-office sends the people's acts itself; nothing is simulated")
    p.add_argument("--prefetch", type=prefetch_count,
                   default=DEFAULT_PREFETCH, metavar="N",
                   help="unacknowledged deliveries at once, and the largest batch handled in one register "
                        "transaction (default: %(default)s)")
    p.add_argument("--http-port", type=port_number, default=os.environ.get("GUICHET_HTTP_PORT") or None, metavar="N",
                   help="serve /metrics (Prometheus), /livez and /readyz on this port (default: $GUICHET_HTTP_PORT; "
                        "none when unset). Spans go to $OTEL_EXPORTER_OTLP_ENDPOINT when set, with guichet[otel]")
    p.set_defaults(func=run)

    h = sub.add_parser("health", help="exit 0 when an agency's service loop is alive (for healthchecks)")
    h.add_argument("agency", type=agency_choice, help="ofii, smoe, consulat or prefecture")
    h.add_argument("--data-dir", default="data", metavar="DIR")
    h.add_argument("--max-age", type=float, default=30.0, help="seconds since the loop's last heartbeat")
    h.add_argument("--url", metavar="URL",
                   help="ask the service's /readyz instead of reading its heartbeat, e.g. http://ofii:9101 "
                        "(default: http://127.0.0.1:$GUICHET_HTTP_PORT when that is set)")
    h.set_defaults(func=health)


port_number = whole_number_between(0, 65535, "a port number")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    broker = account_url(settings.broker, args.credentials, args.agency)
    config = ServiceConfig(definition=definitions()[args.agency], parties=PARTIES, broker_url=broker, clock=clock_from(args),
                           data_dir=settings.data_dir, database_url=settings.database_url,
                           namespace=settings.namespace, queue_type=settings.queue_type,
                           simulate_actors=not args.no_simulated_actors, prefetch=args.prefetch,
                           http_port=args.http_port, tls=settings.tls, signing=settings.signing)
    tracing.configure(f"guichet-{args.agency}")
    Service(config).run()
    return 0


def health(args: argparse.Namespace) -> int:
    url = args.url or (f"http://127.0.0.1:{os.environ['GUICHET_HTTP_PORT']}" if os.environ.get("GUICHET_HTTP_PORT") else None)
    if url is None:
        ok = healthy(args.agency, Path(args.data_dir), args.max_age)
        print(f"{args.agency}: {'alive' if ok else 'not alive'}")
        return 0 if ok else 1
    ready, reason = readiness(url.rstrip("/") + "/readyz")
    print(f"{args.agency}: {'ready' if ready else 'not ready'}: {reason}")
    return 0 if ready else 1


def readiness(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """The service's /readyz: 200 when consuming, 503 with the reason otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return True, response.read().decode().strip()
    except urllib.error.HTTPError as exc:
        return False, exc.read().decode().strip() or f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url} unreachable: {getattr(exc, 'reason', exc)}"
