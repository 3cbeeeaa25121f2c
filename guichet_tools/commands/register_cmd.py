"""`guichet register upgrade`: bring agencies' registers to this version's schema."""
from __future__ import annotations

import argparse
from pathlib import Path

from guichet.register import Register
from guichet.registers.migrations import CURRENT
from guichet_tools.commands.common import UsageError, add_data
from schemas.base import AGENCIES


def add_command(sub) -> None:
    p = sub.add_parser("register", help="the agencies' registers: their schema version")
    rsub = p.add_subparsers(dest="register_command", required=True)
    up = rsub.add_parser(
        "upgrade", help="run the schema steps a register is missing, and say which version it is at",
        description=f"Bring each agency's register to schema version {CURRENT}, the one this guichet writes. "
                    "A service opening a register runs the steps that only add (tables, nullable columns) by "
                    "itself; a step that rewrites rows or takes long is run by this command only, and until "
                    "then the services refuse the register, naming this command. Stop the agency's services "
                    "first. A register written by a newer guichet is refused (exit 6): run that version. "
                    "Prints, per agency, the version found and the version left (docs/registers.md).")
    up.add_argument("agencies", nargs="*", metavar="AGENCY", help="default: every register found")
    add_data(up)
    up.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    agencies = args.agencies or [a for a in AGENCIES if args.database_url
                                 or (Path(args.data_dir) / f"{a}.sqlite3").is_file()]
    unknown = [a for a in agencies if a not in AGENCIES]
    if unknown:
        raise UsageError(f"unknown agency {unknown[0]!r}: choose from {', '.join(AGENCIES)}")
    if not agencies:
        raise UsageError(f"no agency register in {args.data_dir}")
    for agency in agencies:
        if not args.database_url and not (Path(args.data_dir) / f"{agency}.sqlite3").is_file():
            raise UsageError(f"no register for {agency} in {args.data_dir}")
        opened = Register.for_agency(agency, args.data_dir, args.database_url, upgrade=True)
        try:
            print(f"{agency}: {opened.migration.describe()}")
        finally:
            opened.close()
    return 0
