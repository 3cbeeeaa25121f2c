"""`guichet scenario generate`: a varied, seeded scenario of any size, for training and measuring."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from guichet_cli.commands.common import UsageError
from guichet_cli.settings import add_directory, settings_from
from guichet_simulation.generate import NothingRoutable, write_scenario
from services.directory_check import routable


def add_command(sub) -> None:
    p = sub.add_parser(
        "scenario", help="make scenario files", description="Make scenario files for `guichet simulate`."
    )
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    g = actions.add_parser(
        "generate",
        help="a varied scenario of N dossiers",
        description="Write a scenario of varied dossiers: the five titles, twelve départements "
        "(the eight of the single window and four others), families, refusals, "
        "incomplete card dossiers, missed medical visits, slow préfectures, filings "
        "spread over a year. The same seed gives the same scenario. Under plateformes-2021 only "
        "dossiers the directory in use routes are written (--directory; see `guichet directory check`).",
    )
    g.add_argument("--dossiers", type=int, default=100, metavar="N", help="number of dossiers (default: 100)")
    g.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
    g.add_argument("--regime", choices=("circulaire-2012", "plateformes-2021"), default="circulaire-2012")
    g.add_argument("--out", metavar="FILE", help="write there instead of standard output")
    add_directory(g)
    g.set_defaults(func=generate)


def generate(args: argparse.Namespace) -> int:
    if args.dossiers < 1:
        raise UsageError(f"--dossiers must be at least 1, not {args.dossiers}")
    directory = settings_from(args).directory_of_services
    # 2021: a dossier whose platform the directory leaves unnamed would be refused; draw another.
    keep = (lambda item: routable(item, args.regime, directory)) if args.regime == "plateformes-2021" else None
    try:
        if args.out:
            with Path(args.out).open("w", encoding="utf-8") as out:
                write_scenario(out, args.dossiers, args.seed, args.regime, keep)
        else:
            write_scenario(sys.stdout, args.dossiers, args.seed, args.regime, keep)
    except NothingRoutable as exc:
        raise UsageError(f"--regime plateformes-2021: {exc}") from None
    return 0
