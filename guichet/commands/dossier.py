"""`guichet dossier show ID`: the dossier's timeline as the bus recorded it."""
from __future__ import annotations

import argparse
import json

from guichet.commands.common import UsageError, add_data
from guichet.register import Register, from_text
from guichet.timeutil import iso
from guichet.views import dossier_view
from schemas.base import AGENCIES


def register(sub) -> None:
    p = sub.add_parser("dossier", help="look at one dossier as the agencies recorded it")
    dsub = p.add_subparsers(dest="dossier_command", required=True)
    show = dsub.add_parser("show", help="every message of a dossier, from whom to whom, when, and its deadline",
                           description="Merge the journals of the agencies' registers found in --data-dir into one "
                                       "timeline. With --json: the dossier object of the scenario contract, read "
                                       "from the DT-OFII's register.")
    show.add_argument("id", help="dossier id")
    add_data(show)
    show.add_argument("--json", action="store_true", help="the scenario contract's dossier object")
    show.set_defaults(func=run)


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
    registers = _registers(args)
    try:
        if args.json:
            if "ofii" not in registers:
                raise UsageError("the DT-OFII's register is needed for --json (ofii.sqlite3)")
            state = registers["ofii"].state(args.id)
            if state is None:
                raise UsageError(f"dossier {args.id!r} is not in the DT-OFII's register")
            print(json.dumps(dossier_view(state), ensure_ascii=False, indent=2))
            return 0
        entries = {}
        for agency, reg in registers.items():
            for row in reg.journal_of(args.id):
                # A message appears twice, sent by one agency and received by another: keep one line.
                entries.setdefault(row["message_id"], row)
        if not entries:
            raise UsageError(f"dossier {args.id!r} is in none of the registers of {args.data_dir}")
        print(f"dossier {args.id}")
        print(f"  {'sent at':<26} {'type':<40} {'from':<11} {'to':<12} deadline")
        for row in sorted(entries.values(), key=lambda r: (r["sent_at"], r["seq"])):
            deadline = iso(from_text(row["deadline"])) or "-"
            print(f"  {iso(from_text(row['sent_at'])):<26} {row['type']:<40} {row['sender']:<11} "
                  f"{row['recipient']:<12} {deadline}")
        return 0
    finally:
        for reg in registers.values():
            reg.close()
