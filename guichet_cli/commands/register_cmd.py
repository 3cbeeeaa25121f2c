"""`guichet register upgrade`: bring agencies' registers to this version's schema."""

from __future__ import annotations

import argparse

from guichet.register import Register
from guichet.registers.migrations import CURRENT
from guichet_cli.commands.common import add_data, registers_named


def add_command(sub) -> None:
    p = sub.add_parser("register", help="the agencies' registers: their schema version")
    rsub = p.add_subparsers(dest="register_command", required=True)
    up = rsub.add_parser(
        "upgrade",
        help="run the schema steps a register is missing, and say which version it is at",
        description=f"Bring each agency's register to schema version {CURRENT}, the one this guichet writes. "
        "A service opening a register runs the steps that only add (tables, nullable columns) by "
        "itself; a step that rewrites rows or takes long is run by this command only, and until "
        "then the services refuse the register, naming this command. Stop the agency's services "
        "first. A register written by a newer guichet is refused (exit 6): run that version. "
        "Prints, per agency, the version found and the version left (docs/registers.md).",
    )
    up.add_argument("agencies", nargs="*", metavar="AGENCY", help="default: every register found")
    add_data(up)
    up.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    for agency in registers_named(args):
        opened = Register.for_agency(agency, args.data_dir, args.database_url, upgrade=True)
        try:
            print(f"{agency}: {opened.migration.describe()}")
        finally:
            opened.close()
    return 0
