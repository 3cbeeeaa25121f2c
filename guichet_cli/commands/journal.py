"""`guichet journal verify`: is each agency's hash-chained journal intact, and does it still reach
the heads its agency signed (guichet/journal_anchor.py)?"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from guichet.key_directory import KeyDirectory
from guichet.register_reader import RegisterReader
from guichet.settings import SIGNING_VARIABLES
from guichet_cli.commands.common import UsageError, add_data, registers_named


def add_command(sub) -> None:
    p = sub.add_parser("journal", help="the agencies' tamper-evident journals")
    jsub = p.add_subparsers(dest="journal_command", required=True)
    v = jsub.add_parser(
        "verify",
        help="check every record's hash and link; name the first broken one",
        description="Recompute the hash chain of each agency's journal (every message it sent "
        "and received) and check it against the anchors, the heads the agency signed with its key. "
        "Exit 0 when all are intact; exit 1 naming the first broken record otherwise (after a "
        "rewritten chain, the first record no anchor proves). Streams the journal: a large one shows "
        "its progress on standard error.",
    )
    v.add_argument(
        "--key-directory",
        default=os.environ.get(SIGNING_VARIABLES["key_directory"]) or None,
        metavar="FILE",
        help="check the anchors' signatures with the agencies' public keys (default: "
        f"${SIGNING_VARIABLES['key_directory']}); without it, only their heads are checked",
    )
    v.add_argument(
        "--anchors",
        metavar="FILE",
        help="also check the anchors another party kept (the ministry's copies: one JSON anchor a line, or a "
        "JSON array); needs --key-directory, as a copy is believed for its signature only",
    )
    v.add_argument("agencies", nargs="*", metavar="AGENCY", help="default: every register found")
    add_data(v)
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    results = {}
    if args.key_directory and not Path(args.key_directory).is_file():
        raise UsageError(f"--key-directory {args.key_directory}: no such file")
    directory = KeyDirectory(args.key_directory) if args.key_directory else None
    outside = _outside_anchors(args.anchors, directory) if args.anchors else None
    for agency in registers_named(args):
        # Read-only: verifying changes nothing, not even a legacy register's columns.
        with RegisterReader(agency, args.data_dir, args.database_url) as reader:
            results[agency] = reader.verify_journal(directory, progress=_progress(agency), outside=outside)
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
                        "anchors": v.anchors,
                        "anchored": v.anchored,
                        "signatures_checked": v.signatures_checked,
                    }
                    for a, v in results.items()
                },
                indent=2,
            )
        )
    else:
        for agency, verdict in results.items():
            if verdict.intact:
                print(f"{agency}: {verdict.records} records, chain intact, head {verdict.head}; {_anchors(verdict)}")
            else:
                print(f"{agency}: BROKEN at record {verdict.broken_seq}: {verdict.problem}")
    return 0 if all(v.intact for v in results.values()) else 1


def _outside_anchors(path: str, directory: KeyDirectory | None) -> list[dict]:
    if directory is None:
        raise UsageError("--anchors needs --key-directory: an anchor kept elsewhere proves something by its signature")
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"--anchors {path}: {exc.strerror}") from None
    try:
        anchors = (
            json.loads(text)
            if text.lstrip().startswith("[")
            else [json.loads(x) for x in text.splitlines() if x.strip()]
        )
    except ValueError as exc:
        raise UsageError(f"--anchors {path}: not JSON ({exc})") from None
    for number, anchor in enumerate(anchors, 1):
        missing = [
            f
            for f in ("agency", "seq", "head", "signed_at", "key_id", "signature")
            if not isinstance(anchor, dict) or f not in anchor
        ]
        if missing:
            raise UsageError(f"--anchors {path}: anchor {number} has no {missing[0]!r}")
    return anchors


def _anchors(verdict) -> str:
    if not verdict.anchors:
        return "no anchor"
    signed = "signatures checked" if verdict.signatures_checked else "signatures not checked (no --key-directory)"
    return f"{verdict.anchors} anchors hold, up to record {verdict.anchored}, {signed}"


def _progress(agency: str):
    def say(done: int, total: int) -> None:
        print(f"{agency}: {done}/{total} records checked", file=sys.stderr, flush=True)

    return say
