"""`guichet directory check FILE`: what a directory of services leaves unrouted, before the agencies
are given it (services/directory_check.py). Exit 1 when something is unrouted, 0 when all is."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from guichet_cli.commands.common import UsageError
from services.directory import EXAMPLE, Directory
from services.directory_check import check, lines


def add_command(sub) -> None:
    p = sub.add_parser("directory", help="check a directory of services")
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    c = actions.add_parser(
        "check",
        help="what a directory leaves unrouted, per regime",
        description="Say, per regime, which départements and titles a directory of services leaves "
        "unrouted: under circulaire-2012 a département of the single window without its DT-OFII, under "
        "plateformes-2021 a département whose région no named platform covers (the agencies refuse those "
        f"dossiers). Exit 1 when something is unrouted. An example to copy: {EXAMPLE.name} in services/data.",
    )
    c.add_argument("file", metavar="FILE", help="the directory (annuaire.json) to check")
    c.add_argument("--json", action="store_true", help="one JSON document on standard output")
    c.set_defaults(func=run_check)


def run_check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise UsageError(f"{args.file}: no such file")
    try:
        directory = Directory.from_file(path)
        report = check(directory)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{args.file}: not a directory of services ({type(exc).__name__}: {exc})") from None
    if args.json:
        print(json.dumps({"file": str(path), **report}, ensure_ascii=False, indent=2))
    else:
        print("\n".join(lines(report, str(path))))
    return 0 if report["routed"] else 1
