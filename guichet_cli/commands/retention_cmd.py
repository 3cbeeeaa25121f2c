"""`guichet retention run`: erase the personal data whose retention period has passed (RGPD art.
5(1)(e)), everywhere the bus keeps it (docs/retention.md)."""

from __future__ import annotations

import argparse
import json

from guichet.configuration import ConfigurationError
from guichet_cli.commands.common import UsageError
from guichet_cli.commands.privacy_places import add_places, instant, opened
from guichet_operations.erasure_run import due, erase_everywhere
from guichet_operations.retention_periods import VARIABLE, load

WHO = "retention"  # what the erasure journal records as having decided: the periods, not a person


def add_command(sub) -> None:
    p = sub.add_parser("retention", help="erase the personal data kept past its retention period")
    rsub = p.add_subparsers(dest="retention_command", required=True)
    run_ = rsub.add_parser(
        "run",
        help="erase every dossier past its period, from the registers, the error queue and the store",
        description="Find the dossiers past their retention period in the agencies' registers (closed by "
        "the DT-OFII and unchanged anywhere for closed_days; open but untouched for inactive_days) and "
        "erase their personal data from every register (the journal's records and hashes stay: `guichet "
        "journal verify` still passes), from the error queue and its archive (with --broker; archived "
        "messages past archive_days go too), and from the supervision store (with --store; its own "
        "periods too). Each erasure is recorded with its reason in the register's `erasures` table. "
        "Run it daily, e.g. from cron; it takes what is due, and a run with nothing due changes nothing. "
        "The periods and the texts they follow: docs/retention.md.",
    )
    run_.add_argument(
        "--periods",
        metavar="FILE",
        help=f'JSON file of periods in days, e.g. {{"closed_days": 365}}; what it leaves out keeps its '
        f"default (default: ${VARIABLE}, else the defaults of docs/retention.md)",
    )
    run_.add_argument(
        "--now",
        metavar="ISO",
        help="count the periods up to this instant rather than now (registers kept on a bus clock)",
    )
    run_.add_argument("--dry-run", action="store_true", help="say which dossiers are due and why; erase nothing")
    run_.add_argument("--json", action="store_true", help="the report as JSON")
    add_places(run_)
    run_.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        periods = load(args.periods)
    except ConfigurationError as exc:
        raise UsageError(str(exc)) from None
    now = instant(args.now, "--now")
    with opened(args) as places:
        reasons = due(places.registers, periods, now)
        if args.dry_run:
            report = {"kind": "retention", "dry_run": True, "dossiers": sorted(reasons), "why": reasons}
        else:
            report = erase_everywhere(places, reasons, "retention", WHO, now, force=True, periods=periods).as_dict()
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    verb = "due" if args.dry_run else "erased"
    print(f"{len(reasons)} dossier(s) {verb} (periods: {', '.join(f'{k} {v}' for k, v in vars(periods).items())})")
    for dossier_id, why in sorted(reasons.items()):
        print(f"  {dossier_id}: {why}")
    if not args.dry_run and report.get("broker") is not None:
        broker = report["broker"]
        print(f"  broker: {broker['erreurs']} from the error queue, {broker['erreurs.archive']} from the archive")
    if not args.dry_run and report.get("store") is not None:
        print(f"  supervision store: {report['store']}")
    return 0
