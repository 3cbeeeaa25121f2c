"""`guichet dossier show ID`: the dossier's timeline as the bus recorded it (`export` and `erase`:
dossier_rights.py; `dossier proof`: guichet_cli/commands/proof.py)."""

from __future__ import annotations

import argparse
import json

from guichet.register import Register, from_text
from guichet.timeutil import iso
from guichet_cli.commands import dossier_rights
from guichet_cli.commands.common import UsageError, add_data
from guichet_cli.commands.proof import add_dossier_proof
from guichet_cli.settings import add_directory, settings_from
from schemas.base import AGENCIES
from services.summary import moment, summary
from services.views import dossier_view


def add_command(sub) -> None:
    p = sub.add_parser("dossier", help="look at one dossier as the agencies recorded it")
    dsub = p.add_subparsers(dest="dossier_command", required=True)
    show = dsub.add_parser(
        "show",
        help="every message of a dossier, from whom to whom, when, and its deadline",
        description="Merge the journals of the agencies' registers found in --data-dir into one "
        "timeline. With --json: the dossier object of the scenario contract, read "
        "from the DT-OFII's register.",
    )
    show.add_argument("id", help="dossier id")
    add_data(show)
    add_directory(show)
    show.add_argument("--json", action="store_true", help="the scenario contract's dossier object")
    show.set_defaults(func=run)
    dossier_rights.add_commands(dsub)
    add_dossier_proof(dsub)


def _registers(args) -> dict[str, Register]:
    registers = {}
    # --json reads the DT-OFII's register alone: the DT-OFII's own database account may run it.
    for agency in ("ofii",) if args.json else AGENCIES:
        path = f"{args.data_dir}/{agency}.sqlite3"
        if args.database_url or _exists(path):
            registers[agency] = Register.for_agency(agency, args.data_dir, args.database_url)
    if not registers:
        raise UsageError(f"no agency register in {args.data_dir} (expected e.g. {args.data_dir}/ofii.sqlite3)")
    return registers


def _exists(path: str) -> bool:
    from pathlib import Path

    return Path(path).is_file()


def run(args: argparse.Namespace) -> int:
    directory = settings_from(args).directory_of_services  # as --directory or $GUICHET_DIRECTORY gives it
    registers = _registers(args)
    try:
        state = registers["ofii"].state(args.id) if "ofii" in registers else None
        if args.json:
            if "ofii" not in registers:
                raise UsageError("the DT-OFII's register is needed for --json (ofii.sqlite3)")
            if state is None:
                raise UsageError(f"dossier {args.id!r} is not in the DT-OFII's register")
            print(json.dumps(dossier_view(state, directory), ensure_ascii=False, indent=2))
            return 0
        entries = {}
        for reg in registers.values():
            for row in reg.journal_of(args.id):
                # A message appears twice, sent by one agency and received by another: keep one line.
                entries.setdefault(row["message_id"], row)
        if not entries:
            raise UsageError(f"dossier {args.id!r} is in none of the registers of {args.data_dir}")
        if state is not None:
            # What the single window knows of the dossier, as an agent reads it; then the messages.
            print("\n".join(summary(dossier_view(state, directory), directory)))
            print()
        print(f"Messages du dossier {args.id}")
        print(f"  {'envoyé le':<17} {'message':<40} {'de':<11} {'à':<12} délai")
        for row in sorted(entries.values(), key=lambda r: (r["sent_at"], r["seq"])):
            print(
                f"  {moment(iso(from_text(row['sent_at']))):<17} {row['type']:<40} {row['sender']:<11} "
                f"{row['recipient']:<12} {moment(iso(from_text(row['deadline'])))}"
            )
        return 0
    finally:
        for reg in registers.values():
            reg.close()
