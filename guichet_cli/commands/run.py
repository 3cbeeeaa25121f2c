"""`guichet run AGENCY`: one agency as a long-running consumer process."""

from __future__ import annotations

import argparse
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import structlog

from guichet import tracing
from guichet.journal_anchor import EVERY_RECORDS, EVERY_SECONDS
from guichet.readiness_probe import readiness
from guichet.serve import DEFAULT_PREFETCH, Service, ServiceConfig, healthy
from guichet.settings import SigningSettings
from guichet.status_server import ListenerError
from guichet_cli.commands.common import (
    RABBITMQ_SCHEMES,
    UsageError,
    account_url,
    add_broker,
    add_clock,
    add_credentials,
    add_data,
    add_queue_type,
    agency_choice,
    clock_from,
    prefetch_count,
    whole_number_between,
)
from guichet_cli.settings import SIGNING_VARIABLES, add_directory, add_signing, settings_from
from services.bootstrap import compose
from services.parties import PARTIES

log = structlog.get_logger("guichet.run")


def add_command(sub) -> None:
    p = sub.add_parser(
        "run",
        help="run one agency's service on the broker until SIGTERM",
        description="Run one agency (ofii, smoe, consulat, prefecture) as a consumer of its own "
        "durable queue. The people's acts (the agents' decisions, the employer's and "
        "the worker's deposits) come from the agency's back-office on the bus; "
        "--simulated-actors plays them instead from the facts carried with each "
        "filing, for tests and demonstrations only. On RabbitMQ, run it with "
        "--key-directory (and --require-signatures): unsigned, any account that "
        "can publish on the bus can speak for any agency.",
    )
    p.add_argument("agency", type=agency_choice, help="ofii, smoe, consulat or prefecture")
    add_broker(p)
    add_credentials(p, "the agency's")
    add_data(p)
    add_clock(p)
    add_queue_type(p)
    add_signing(p)
    p.add_argument(
        "--require-signatures",
        action="store_true",
        default=_true(os.environ.get(REQUIRE_VARIABLE)),
        help="refuse to start without a key directory and a valid key of this agency in --keys-dir "
        f"(default: ${REQUIRE_VARIABLE}=1)",
    )
    add_directory(p)
    # The last of the two wins: a tool that turns them on for every service can turn them off for one.
    p.add_argument(
        "--simulated-actors",
        dest="simulated_actors",
        action="store_true",
        default=False,
        help="simulated people take the agency's decisions and play the employer's and the "
        "worker's acts from the filing's facts: for tests and demonstrations, never for "
        "real dossiers (default: off)",
    )
    p.add_argument(
        "--no-simulated-actors",
        dest="simulated_actors",
        action="store_false",
        default=False,
        help="deprecated: nothing is simulated unless --simulated-actors is given",
    )
    p.add_argument(
        "--prefetch",
        type=prefetch_count,
        default=DEFAULT_PREFETCH,
        metavar="N",
        help="unacknowledged deliveries at once, and the largest batch handled in one register "
        "transaction (default: %(default)s)",
    )
    p.add_argument(
        "--anchor-every",
        type=whole_number_between(1, 1_000_000, "a number of records"),
        default=EVERY_RECORDS,
        metavar="N",
        help="sign the journal's head with the agency's key at least every N records, and every "
        f"{EVERY_SECONDS:g} seconds while records are not anchored (default: %(default)s; needs the "
        "agency's signing key, docs/keys.md)",
    )
    p.add_argument(
        "--http-port",
        type=port_number,
        default=os.environ.get("GUICHET_HTTP_PORT") or None,
        metavar="N",
        help="serve /metrics (Prometheus), /livez and /readyz on this port (default: $GUICHET_HTTP_PORT; "
        "none when unset). Spans go to $OTEL_EXPORTER_OTLP_ENDPOINT when set, with guichet[otel]",
    )
    p.add_argument(
        "--http-host",
        default=os.environ.get("GUICHET_HTTP_HOST") or "127.0.0.1",
        metavar="ADDRESS",
        help="the address the status listener binds (default: $GUICHET_HTTP_HOST or 127.0.0.1, this "
        "machine only; 0.0.0.0 for a scraper on another host or container)",
    )
    p.set_defaults(func=run)

    h = sub.add_parser("health", help="exit 0 when an agency's service loop is alive (for healthchecks)")
    h.add_argument("agency", type=agency_choice, help="ofii, smoe, consulat or prefecture")
    h.add_argument("--data-dir", default="data", metavar="DIR")
    h.add_argument("--max-age", type=float, default=30.0, help="seconds since the loop's last heartbeat")
    h.add_argument(
        "--url",
        metavar="URL",
        help="ask the service's /readyz instead of reading its heartbeat, e.g. http://ofii:9101 "
        "(default: http://127.0.0.1:$GUICHET_HTTP_PORT when that is set)",
    )
    h.set_defaults(func=health)


port_number = whole_number_between(0, 65535, "a port number")
REQUIRE_VARIABLE = "GUICHET_REQUIRE_SIGNATURES"
UNSIGNED_RISK = (
    "signatures are off on {broker}: any account that can publish on the bus can speak for any "
    "agency and its messages are believed; give --key-directory and --keys-dir "
    "(guichet keys init, docs/keys.md) and --require-signatures"
)
SIMULATED_RISK = (
    "simulated actors are on: simulated people take {agency}'s decisions and play the employer's "
    "and the worker's acts; never for real dossiers"
)


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    broker = account_url(settings.broker, args.credentials, args.agency, args.user_prefix)
    on_rabbitmq = is_rabbitmq(settings.broker)
    if args.require_signatures:
        require_own_key(settings.signing, args.agency)
    elif on_rabbitmq and not settings.signing.key_directory:
        warn(UNSIGNED_RISK.format(broker=_without_password(settings.broker)))
    if args.simulated_actors and on_rabbitmq:
        warn(SIMULATED_RISK.format(agency=args.agency))
    definition = compose(settings.directory_of_services).agencies[args.agency]
    config = ServiceConfig(
        definition=definition,
        parties=PARTIES,
        broker_url=broker,
        clock=clock_from(args),
        data_dir=settings.data_dir,
        database_url=settings.database_url,
        namespace=settings.namespace,
        queue_type=settings.queue_type,
        simulate_actors=args.simulated_actors,
        prefetch=args.prefetch,
        http_port=args.http_port,
        http_host=args.http_host,
        tls=settings.tls,
        signing=settings.signing,
        freshness=settings.freshness,
        anchor_every=args.anchor_every,
    )
    tracing.configure(f"guichet-{args.agency}", os.environ)
    try:
        Service(config).run()
    except ListenerError as exc:
        raise UsageError(f"--http-host {exc.host} --http-port {exc.port}: cannot listen ({exc.reason})") from None
    return 0


def is_rabbitmq(url: str | None) -> bool:
    return any(urlsplit(one.strip()).scheme in RABBITMQ_SCHEMES for one in (url or "").split(";") if one.strip())


def warn(text: str) -> None:
    """Loud: on standard error whatever the log level, and in the log for whoever collects it."""
    print(f"guichet run: WARNING: {text}", file=sys.stderr, flush=True)
    log.warning(text)


def require_own_key(signing: SigningSettings, agency: str) -> None:
    """--require-signatures: a key directory, and a key of this agency valid now that this process holds."""
    if not signing.key_directory:
        raise UsageError(
            f"--require-signatures: no key directory (--key-directory or ${SIGNING_VARIABLES['key_directory']})"
        )
    trust = signing.trust()
    if trust.signing_key(agency, datetime.now(UTC)) is None:
        raise UsageError(
            f"--require-signatures: no valid key of {agency} in the keys folder "
            f"({signing.keys_dir or 'none given'}) for {signing.key_directory}"
        )


def _without_password(url: str) -> str:
    return ";".join(re.sub(r"//[^@/]*@", "//", one) for one in url.split(";"))


def health(args: argparse.Namespace) -> int:
    url = args.url or (
        f"http://127.0.0.1:{os.environ['GUICHET_HTTP_PORT']}" if os.environ.get("GUICHET_HTTP_PORT") else None
    )
    if url is None:
        ok = healthy(args.agency, Path(args.data_dir), args.max_age)
        print(f"{args.agency}: {'alive' if ok else 'not alive'}")
        return 0 if ok else 1
    ready, reason = readiness(url.rstrip("/") + "/readyz")
    print(f"{args.agency}: {'ready' if ready else 'not ready'}: {reason}")
    return 0 if ready else 1
