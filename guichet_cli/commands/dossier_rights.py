"""`guichet dossier export ID` and `guichet dossier erase ID --reason TEXT`: a person's rights of
access (RGPD art. 15) and erasure (art. 17) over one dossier, everywhere the bus keeps it
(docs/retention.md)."""

from __future__ import annotations

import argparse
import json
import sys

from guichet.private_files import private_file
from guichet.registers.erasure import OpenDossier
from guichet_cli.commands.common import UsageError, add_data, registers_named
from guichet_cli.commands.privacy_places import add_decided_by, add_places, add_store, decided_by, instant, opened
from guichet_operations.dossier_export import export
from guichet_operations.erasure_run import erase_everywhere, held_by


def add_commands(dsub) -> None:
    ex = dsub.add_parser(
        "export",
        help="everything held on a dossier, as JSON: an access request (RGPD art. 15)",
        description="Gather what every agency's register holds on the dossier (its state, the messages "
        "sent with their envelopes, the journal's records and kept messages, its tasks, its erasure if it "
        "was erased) and, with --store, what the supervision store holds, into one JSON document. Read "
        "only. It holds the person's data: write it with --output (a file only its owner reads) and hand "
        "it over as the access request's procedure says.",
    )
    ex.add_argument("id", help="dossier id")
    ex.add_argument(
        "--agency", dest="agencies", action="append", default=[], metavar="AGENCY", help="default: every register"
    )
    add_data(ex)
    add_store(ex)
    ex.add_argument("--output", metavar="FILE", help="write the document there (mode 0600) rather than to stdout")
    ex.set_defaults(func=run_export)

    er = dsub.add_parser(
        "erase",
        help="erase a dossier's personal data everywhere, on an erasure decision (RGPD art. 17)",
        description="Erase the dossier's personal data from every agency's register (its state, the "
        "bodies and headers of its messages, the journal's kept messages: the journal's records and "
        "hashes stay, and `guichet journal verify` still passes), from the error queue and its archive "
        "(with --broker) and from the supervision store (with --store). Each register records the "
        "erasure (when, --reason, --by) in its `erasures` table, the store in its actions journal; "
        "neither holds personal data. A dossier still open at an agency (a task awaiting an act, a "
        "message not sent yet) is refused unless --force, which withdraws its pending messages. A "
        "message arriving later for an erased dossier is refused (reason dossier_erased). Stop nothing: "
        "the services may run meanwhile.",
    )
    er.add_argument("id", help="dossier id")
    er.add_argument("--reason", required=True, help="why, as the decision says (recorded; no personal data)")
    add_decided_by(er)
    er.add_argument("--force", action="store_true", help="erase a dossier still open too (its procedure ends)")
    er.add_argument("--json", action="store_true", help="the report as JSON")
    add_places(er)
    er.set_defaults(func=run_erase)


def run_export(args: argparse.Namespace) -> int:
    from guichet_operations.supervision.store import Store

    agencies = registers_named(args)
    store = Store(args.store) if args.store else None
    try:
        document = export(args.id, agencies, args.data_dir, args.database_url, store)
    finally:
        if store is not None:
            store.close()
    if not document["places"]:
        raise UsageError(
            f"dossier {args.id!r} is held nowhere: not in {', '.join(agencies)}"
            + (", nor in the store" if store else "")
        )
    text = json.dumps(document, ensure_ascii=False, indent=2, default=str)
    if args.output:
        private_file(args.output)
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text + "\n")
        print(f"dossier {args.id}: exported from {', '.join(document['places'])} to {args.output}", file=sys.stderr)
    else:
        print(text)
    return 0


def run_erase(args: argparse.Namespace) -> int:
    if not args.id.strip():
        raise UsageError("ID: give the dossier's id")
    if not args.reason.strip():
        raise UsageError("--reason: say why the dossier is erased (the decision's reference)")
    who, now = decided_by(args), instant(None, "now")
    with opened(args) as places:
        if not held_by(places.registers, args.id):
            # An id mistyped would be recorded as erased, and refuse a dossier of that id for ever.
            raise UsageError(
                f"dossier {args.id!r} is in none of the registers ({', '.join(places.registers)}): check the id"
            )
        try:
            report = erase_everywhere(places, {args.id: args.reason.strip()}, "decision", who, now, args.force)
        except OpenDossier as exc:
            raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return 0
    held = [a for a, done in report.registers.items() if done.get(args.id, {}).get("states")]
    print(f"dossier {args.id} erased ({'held by ' + ', '.join(held) if held else 'held by no register'})")
    if report.broker is not None:
        print(f"  broker: {report.broker['erreurs']} in the error queue, {report.broker['erreurs.archive']} archived")
    if report.store is not None:
        print(f"  supervision store: {'erased' if report.store['dossiers'] else 'held nothing of it'}")
    return 0
