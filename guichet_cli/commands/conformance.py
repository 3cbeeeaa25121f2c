"""`guichet conformance AGENCY`: prove a third-party agency connector on a live bus."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path

from guichet import logs
from guichet_cli.commands.common import UsageError, add_broker, add_clock, agency_choice, require_rabbitmq
from guichet_cli.settings import add_directory, add_signing, settings_from
from guichet_simulation.conformance.checks import checks
from guichet_simulation.conformance.report import as_json, as_text, passed
from guichet_simulation.conformance.runner import Options, live_run, tolerance_for

DESCRIPTION = """\
Prove an agency connector (any language) before it goes live. The connector under test must already
be running on --broker, consuming its queue <namespace>.<agency>, on the same bus clock as given
here (--time-scale, --clock-origin), with its simulated actors on (its people's acts played from
the facts carried with each filing, as `guichet run AGENCY --simulated-actors` does), and signing
with its own key when the bus runs signed.

The kit then plays the three other agencies (the Python services, simulated actors on, started as
processes of their own) and the employers' portal, files one dossier per conversation AGENCY takes
part in (every title and path that involves it) and checks, from what it sees on the bus only:
  - each dossier's outcome, its steps and their dates, its legal deadlines and the messages the
    connector sent (type, recipient, day, deadline), against a reference run of the same dossiers
    with the Python agency in process (with AGENCY=ofii, whose register holds the dossier, only the
    messages are compared);
  - that nothing the connector sent was refused by the other agencies; when signed, that every
    message it sent was signed and its signature accepted, and that each transmission the other
    agencies sent it and it took is acknowledged with a signed receipt of the bytes it received
    (docs/proof.md);
  - refusals: a schema-violating message (and, signed, a badly signed one) gets no reply and lands
    in the error queue <namespace>.erreurs;
  - redeliveries: a message sent again with the same message_id gets no second reply.
Each dossier has a time limit (--timeout): one that does not finish is reported with the step it
waited for. Use a high --time-scale (e.g. 1000000): each dossier runs weeks of legal time.
Exit status: 0 every check passed, 1 a check failed, 2 a usage or configuration error."""


def add_command(sub) -> None:
    p = sub.add_parser(
        "conformance",
        help="prove a third-party agency connector running on the bus (a test tool)",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("agency", type=agency_choice, help="the agency whose connector is under test")
    add_broker(p)
    add_clock(p)
    add_signing(p)
    add_directory(p)
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="real seconds a dossier may take beyond the time its reference run needs on this clock "
        "(default: twice that time plus 20 s)",
    )
    p.add_argument(
        "--date-tolerance",
        type=int,
        metavar="DAYS",
        help="days a date may differ from the reference run's: a process's latency is hours of bus time "
        "on a compressed clock (default: the days 0.3 real second spans on it, rounded up; 0 near real time)",
    )
    p.add_argument(
        "--work-dir",
        metavar="DIR",
        help="where the kit's agencies keep their registers and logs (default: a temporary folder, deleted)",
    )
    p.add_argument("--json", action="store_true", help="the verdict as JSON on standard output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The reference run is in process: its agencies' log lines are not the verdict's.
    logs.configure(args.log_level or "error")
    require_rabbitmq(args.broker, "the connector under test is a process of its own on a real broker")
    if args.time_scale <= 0:
        raise UsageError("--time-scale must be positive")
    if args.date_tolerance is not None and args.date_tolerance < 0:
        raise UsageError("--date-tolerance must be 0 or more")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    settings = settings_from(args)
    if any(getattr(args, f"tls_{name}", None) for name in ("ca", "cert", "key", "server_name")):
        # The kit's own taps connect without TLS: refused rather than silently ignored.
        raise UsageError("the TLS options are not supported by guichet conformance yet: use a plain amqp:// bus")
    signing = settings.signing
    trust = signing.trust()
    options = Options(
        agency=args.agency,
        broker=settings.broker or "",
        namespace=settings.namespace,
        time_scale=args.time_scale,
        origin=_origin(args.clock_origin),
        directory=settings.directory_of_services,
        trust=trust,
        signing_options=_signing_options(signing.key_directory, signing.keys_dir, settings.directory),
        timeout=args.timeout,
        date_tolerance=tolerance_for(args.time_scale) if args.date_tolerance is None else args.date_tolerance,
        work_dir=Path(args.work_dir) if args.work_dir else None,
    )
    result = live_run(options)
    found = checks(result)
    print(as_json(result, found) if args.json else as_text(result, found))
    sys.stdout.flush()
    return 0 if passed(found) else 1


def _origin(text: str | None) -> datetime:
    # The default of `guichet run`: the connector and the kit must read the same bus clock.
    if not text:
        return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--clock-origin: {text!r} is not an ISO 8601 date-time") from None


def _signing_options(key_directory: str | None, keys_dir: str | None, directory: str | None) -> tuple[str, ...]:
    """What the kit's own agencies are started with, as absolute paths (they run in other folders)."""
    options: list[str] = []
    if key_directory:
        options += ["--key-directory", str(Path(key_directory).resolve())]
    if keys_dir:
        options += ["--keys-dir", ":".join(str(Path(p).resolve()) for p in keys_dir.split(":") if p)]
    if directory:
        options += ["--directory", str(Path(directory).resolve())]
    return tuple(options)
