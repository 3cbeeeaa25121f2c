"""`guichet keys init|generate|rotate|revoke|list`: the parties' Ed25519 signing keys and the shared
key directory. Every change rewrites the directory whole (a temporary file renamed over it) under
a lock, so that services reading it meanwhile see the old directory or the new one, never half of
one; they read it again within guichet.key_directory.RELOAD_SECONDS. docs/keys.md is the procedure."""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from guichet.key_directory import RELOAD_SECONDS, SUBJECT_PARTIES, KeyDirectory, editing
from guichet.trust import generate
from guichet_cli.commands.common import UsageError
from schemas.base import AGENCIES, Party

PARTIES = Party.__args__
SIRET = re.compile(r"^\d{14}$")
PORTAL = "portal"  # the folder of the employers' portal: the worker's key and each employer's

DIRECTORY_HELP = "the shared key directory (JSON) every receiver reads (GUICHET_KEY_DIRECTORY)"


def add_command(sub) -> None:
    p = sub.add_parser(
        "keys",
        help="signing keys of the agencies and parties, and the key directory",
        description="Signing keys and the key directory. A private key goes to a keys folder "
        "(mode 0600), its public key to the directory, which every receiver reads "
        "(GUICHET_KEY_DIRECTORY) and reads again within "
        f"{RELOAD_SECONDS:g} s of a change; a process signs with the keys of "
        "GUICHET_KEYS_DIR. An employer's key names the employer (--subject SIRET): "
        "the portal signs for each employer with that employer's key, and a shared "
        "employeur key is refused. See docs/keys.md.",
    )
    ksub = p.add_subparsers(dest="keys_command", required=True)

    i = ksub.add_parser(
        "init",
        help="a key for every agency, the worker and each employer the portal serves",
        description="Create what a bus needs to run signed: one key per agency in KEYS_ROOT/<agency>, "
        f"the worker's and one per employer in KEYS_ROOT/{PORTAL} (the employers' portal). "
        "A party that already has a valid key whose private key is there keeps it: "
        "running it again changes nothing.",
    )
    i.add_argument("--keys-root", required=True, metavar="DIR", help="one private keys folder per party under it")
    i.add_argument("--directory", required=True, metavar="FILE", help=DIRECTORY_HELP)
    i.add_argument(
        "--employers",
        default="",
        metavar="SIRET,...",
        help="the SIRETs of the employers the portal signs for, comma-separated",
    )
    i.set_defaults(func=init)

    for name, text in (
        ("generate", "create a party's first key (or another one) and publish it in the directory"),
        ("rotate", "create a new key and end the current one after an overlap"),
    ):
        c = ksub.add_parser(
            name,
            help=text,
            description=text + ". The private key goes to --keys-dir (mode "
            "0600), the public key to --directory; a process signs with the keys of GUICHET_KEYS_DIR.",
        )
        c.add_argument("party", help=", ".join(PARTIES))
        c.add_argument("--subject", metavar="SIRET", help="for employeur (required): the employer the key speaks for")
        c.add_argument("--keys-dir", required=True, metavar="DIR", help="the party's private keys folder")
        c.add_argument("--directory", required=True, metavar="FILE", help=DIRECTORY_HELP)
        if name == "rotate":
            c.add_argument(
                "--overlap-hours",
                type=float,
                default=24.0,
                help="how long the old key stays valid, for messages already on their way (default: 24; "
                "0 ends it at once, as revoke does)",
            )
        c.set_defaults(func=run)

    r = ksub.add_parser(
        "revoke",
        help="withdraw a key at once",
        description="End KEY_ID now: every receiver refuses it, whatever date a message carries, "
        f"within {RELOAD_SECONDS:g} s of the directory being in place where it reads it. "
        "Give the party a new key (generate) before, so that it goes on signing.",
    )
    r.add_argument("party", help=", ".join(PARTIES))
    r.add_argument("key_id", metavar="KEY_ID", help="the key to withdraw (guichet keys list shows them)")
    r.add_argument("--directory", required=True, metavar="FILE", help=DIRECTORY_HELP)
    r.set_defaults(func=revoke)

    ls = ksub.add_parser("list", help="the keys of the directory, with their validity")
    ls.add_argument("--directory", required=True, metavar="FILE", help=DIRECTORY_HELP)
    ls.add_argument("--json", action="store_true", help="the directory's entries as JSON")
    ls.set_defaults(func=list_keys)


def _party_and_subject(party: str, subject: str | None) -> tuple[str, str | None]:
    if party not in PARTIES:
        raise UsageError(f"unknown party {party!r}: choose from {', '.join(PARTIES)}")
    if party in SUBJECT_PARTIES:
        if not subject or not SIRET.match(subject):
            raise UsageError(f"{party} keys are one per employer: --subject SIRET (14 digits) is required")
    elif subject:
        raise UsageError(f"--subject is for {', '.join(sorted(SUBJECT_PARTIES))} keys, not {party}")
    return party, subject


def _whose(party: str, subject: str | None) -> str:
    return f"{party} {subject}" if subject else party


def run(args: argparse.Namespace) -> int:
    party, subject = _party_and_subject(args.party, args.subject)
    now = datetime.now(UTC)
    with editing(args.directory) as directory:
        if args.keys_command == "rotate":
            current = directory.current(party, now, subject)
            if current is None:
                raise UsageError(f"{_whose(party, subject)} has no valid key to rotate: use 'guichet keys generate'")
            ended = directory.withdraw(current.key_id, now + timedelta(hours=args.overlap_hours))
            print(f"{_whose(party, subject)}: key {ended.key_id} valid until {ended.valid_until.isoformat()}")
        entry = generate(party, Path(args.keys_dir), directory, now, subject)
    print(f"{_whose(party, subject)}: new key {entry.key_id}, valid from {entry.valid_from.isoformat()}")
    return 0


def revoke(args: argparse.Namespace) -> int:
    if args.party not in PARTIES:
        raise UsageError(f"unknown party {args.party!r}: choose from {', '.join(PARTIES)}")
    now = datetime.now(UTC)
    with editing(args.directory) as directory:
        entry = directory.get(args.key_id)
        if entry is None or entry.party != args.party:
            raise UsageError(f"{args.directory} has no key {args.key_id!r} of {args.party}")
        ended = directory.withdraw(entry.key_id, now)
        left = directory.current(entry.party, now, entry.subject)
    print(f"{_whose(entry.party, entry.subject)}: key {ended.key_id} withdrawn at {ended.valid_until.isoformat()}")
    if left is None:
        print(
            f"{_whose(entry.party, entry.subject)} has no valid key left: its messages are refused until "
            "it has a new one (guichet keys generate)"
        )
    return 0


def init(args: argparse.Namespace) -> int:
    employers = [s.strip() for s in args.employers.split(",") if s.strip()]
    for siret in employers:
        _party_and_subject("employeur", siret)
    wanted = (
        [(agency, None, agency) for agency in AGENCIES]
        + [("travailleur", None, PORTAL)]
        + [("employeur", siret, PORTAL) for siret in dict.fromkeys(employers)]
    )
    root = Path(args.keys_root)
    now = datetime.now(UTC)
    with editing(args.directory) as directory:
        for party, subject, folder in wanted:
            held = [e for e in directory.valid(party, now, subject) if (root / folder / f"{e.key_id}.pem").is_file()]
            if held:
                print(f"{_whose(party, subject)}: key {held[0].key_id} kept")
                continue
            entry = generate(party, root / folder, directory, now, subject)
            print(f"{_whose(party, subject)}: new key {entry.key_id} in {root / folder}")
    return 0


def list_keys(args: argparse.Namespace) -> int:
    if not Path(args.directory).is_file():
        raise UsageError(f"--directory: {args.directory}: no such file")
    directory = KeyDirectory(args.directory)
    if args.json:
        print(json.dumps({"keys": [e.as_json() for e in directory.entries]}, indent=2))
        return 0
    now = datetime.now(UTC)
    for e in directory.entries:
        state = "withdrawn" if e.withdrawn_at(now) else "valid" if e.valid_at(now) else "not yet valid"
        until = e.valid_until.isoformat() if e.valid_until else "-"
        print(f"{e.key_id}\t{_whose(e.party, e.subject)}\t{e.valid_from.isoformat()}\t{until}\t{state}")
    return 0
