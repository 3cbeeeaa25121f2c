"""`guichet dossier proof ID` and `guichet proof verify FILE`: a dossier's messages, receipts and
chain proofs as one file (guichet/dossier_proof.py), and its offline check (guichet/proof_check.py)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from guichet.dossier_proof import dossier_proof
from guichet.key_directory import KeyDirectory
from guichet.private_files import private_file
from guichet.proof_check import verify_proof
from guichet.register_reader import RegisterReader
from guichet_cli.commands.common import UsageError, add_data, registers_named
from guichet_cli.settings import SIGNING_VARIABLES


def add_dossier_proof(dsub) -> None:
    p = dsub.add_parser(
        "proof",
        help="export a dossier's messages, receipts and chain proofs as one file an auditor checks offline",
        description="Read the journals of the agencies' registers (every register found, or those named) "
        "and write the dossier's proof: each message of the dossier exactly as it was received or sent, "
        "with its signature and the state it left; the signed receipts; and the journal records and "
        "signed anchors that prove none was changed since. The proof holds personal data (the "
        "messages): it is written 0600. Check it with `guichet proof verify`; docs/proof.md describes it.",
    )
    p.add_argument("id", help="dossier id")
    p.add_argument("agencies", nargs="*", metavar="AGENCY", help="default: every register found")
    p.add_argument("--output", "-o", metavar="FILE", help="where to write the proof (default: standard output)")
    add_data(p)
    p.set_defaults(func=run_export)


def add_command(sub) -> None:
    p = sub.add_parser("proof", help="check a dossier's proof offline")
    psub = p.add_subparsers(dest="proof_command", required=True)
    v = psub.add_parser(
        "verify",
        help="check a dossier proof against the key directory: hashes, links, anchors, signatures, receipts",
        description="Check a file made by `guichet dossier proof`, with nothing else than the key directory: "
        "every record's hash and link, every anchor's signature, that each record of the dossier reaches a "
        "signed anchor, that each message kept is the one its record proves and carries its sender's "
        "signature, and that each receipt acknowledges the bytes sent. Exit 0 when everything holds, 1 "
        "naming each failure otherwise, 2 for a file that cannot be read.",
    )
    v.add_argument("file", help="the proof (JSON)")
    v.add_argument(
        "--key-directory",
        default=os.environ.get(SIGNING_VARIABLES["key_directory"]) or None,
        metavar="FILE",
        help=f"the key directory the signatures are checked against (default: ${SIGNING_VARIABLES['key_directory']})",
    )
    v.add_argument("--json", action="store_true", help="the report as JSON")
    v.set_defaults(func=run_verify)


def run_export(args: argparse.Namespace) -> int:
    journals, readers = {}, []
    try:
        for agency in registers_named(args):
            reader = RegisterReader(agency, args.data_dir, args.database_url)
            readers.append(reader)
            journals[agency] = reader.rows
        proof = dossier_proof(journals, args.id)
    finally:
        for reader in readers:
            reader.close()
    if not proof["journals"]:
        raise UsageError(f"dossier {args.id!r} is in none of the journals read")
    text = json.dumps(proof, ensure_ascii=False, indent=1) + "\n"
    if args.output:
        Path(private_file(args.output)).write_text(text)
        counted = ", ".join(f"{a}: {len(p['records'])} records" for a, p in proof["journals"].items())
        print(f"proof of {args.id} written to {args.output} ({counted})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def run_verify(args: argparse.Namespace) -> int:
    if not args.key_directory:
        raise UsageError("--key-directory is needed: a proof is checked against the keys its signers published")
    if not Path(args.key_directory).is_file():
        raise UsageError(f"--key-directory {args.key_directory}: no such file")
    try:
        proof = json.loads(Path(args.file).read_text())
    except OSError as exc:
        raise UsageError(f"{args.file}: {exc.strerror}") from None
    except ValueError as exc:
        raise UsageError(f"{args.file}: not JSON ({exc})") from None
    if not isinstance(proof, dict):
        raise UsageError(f"{args.file}: not a dossier proof (a JSON object is expected)")
    report = verify_proof(proof, KeyDirectory(args.key_directory))
    if args.json:
        print(json.dumps({"holds": report.holds, **vars(report)}, ensure_ascii=False, indent=2))
    else:
        dossier = proof.get("dossier_id")
        for line in report.facts:
            print(f"  {line}")
        checked = ", ".join(f"{a}: {n} records" for a, n in report.checked.items())
        if report.holds:
            print(f"proof of {dossier} holds ({checked})")
        for line in report.problems:
            print(f"FAILS: {line}")
    return 0 if report.holds else 1
