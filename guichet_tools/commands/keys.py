"""`guichet keys generate|rotate`: the parties' Ed25519 signing keys and the shared key directory."""
from __future__ import annotations

import argparse
from datetime import datetime, timedelta, timezone
from pathlib import Path

from guichet_tools.commands.common import UsageError
from guichet.trust import KeyDirectory, generate
from schemas.base import Party

PARTIES = Party.__args__


def register(sub) -> None:
    p = sub.add_parser("keys", help="signing keys of the agencies and parties, and the key directory")
    ksub = p.add_subparsers(dest="keys_command", required=True)
    for name, text in (("generate", "create a party's first key (or another one) and publish it in the directory"),
                       ("rotate", "create a new key and end the current one after an overlap")):
        c = ksub.add_parser(name, help=text, description=text + ". The private key goes to --keys-dir (mode "
                            "0600), the public key to --directory, the file every receiver reads "
                            "(GUICHET_KEY_DIRECTORY); a process signs with the keys of GUICHET_KEYS_DIR.")
        c.add_argument("party", help=", ".join(PARTIES))
        c.add_argument("--keys-dir", required=True, metavar="DIR", help="the party's private keys folder")
        c.add_argument("--directory", required=True, metavar="FILE", help="the shared key directory (JSON)")
        if name == "rotate":
            c.add_argument("--overlap-hours", type=float, default=24.0,
                           help="how long the old key stays valid, for messages already on their way (default: 24)")
        c.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.party not in PARTIES:
        raise UsageError(f"unknown party {args.party!r}: choose from {', '.join(PARTIES)}")
    directory = KeyDirectory(args.directory)
    now = datetime.now(timezone.utc)
    if args.keys_command == "rotate":
        current = directory.current(args.party, now)
        if current is None:
            raise UsageError(f"{args.party} has no valid key to rotate: use 'guichet keys generate'")
        ends = now + timedelta(hours=args.overlap_hours)
        directory.entries = [e if e is not current else type(e)(e.party, e.key_id, e.public_key, e.valid_from, ends)
                             for e in directory.entries]
    entry = generate(args.party, Path(args.keys_dir), directory, now)
    directory.save()
    print(f"{args.party}: new key {entry.key_id}, valid from {entry.valid_from.isoformat()}")
    return 0
