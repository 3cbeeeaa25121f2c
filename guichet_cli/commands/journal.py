"""`guichet journal verify`: is each agency's hash-chained journal intact?"""

from __future__ import annotations

import argparse
import json

from guichet.register_reader import RegisterReader
from guichet_cli.commands.common import add_data, registers_named


def add_command(sub) -> None:
    p = sub.add_parser("journal", help="the agencies' tamper-evident journals")
    jsub = p.add_subparsers(dest="journal_command", required=True)
    v = jsub.add_parser(
        "verify",
        help="check every record's hash and link; name the first broken one",
        description="Recompute the hash chain of each agency's journal (every message it sent "
        "and received). Exit 0 when all are intact; exit 1 naming the first broken "
        "record otherwise. The head hash printed can be kept elsewhere as an anchor.",
    )
    v.add_argument("agencies", nargs="*", metavar="AGENCY", help="default: every register found")
    add_data(v)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    results = {}
    for agency in registers_named(args):
        # Read-only: verifying changes nothing, not even a legacy register's columns.
        with RegisterReader(agency, args.data_dir, args.database_url) as reader:
            results[agency] = reader.verify_journal()
    if args.json:
        print(
            json.dumps(
                {
                    a: {
                        "intact": v.intact,
                        "records": v.records,
                        "head": v.head,
                        "broken_record": v.broken_seq,
                        "problem": v.problem,
                    }
                    for a, v in results.items()
                },
                indent=2,
            )
        )
    else:
        for agency, verdict in results.items():
            if verdict.intact:
                print(f"{agency}: {verdict.records} records, chain intact, head {verdict.head}")
            else:
                print(f"{agency}: BROKEN at record {verdict.broken_seq}: {verdict.problem}")
    return 0 if all(v.intact for v in results.values()) else 1
