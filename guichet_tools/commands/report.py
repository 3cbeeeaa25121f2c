"""`guichet report biometrie`: annex 2 of the circular, from the préfecture's register."""
from __future__ import annotations

import argparse
import csv
import io
import re
from pathlib import Path

from guichet_tools.commands.common import UsageError, add_data
from guichet.register import Register
from services.views import BIOMETRIC_CATEGORIES, biometric_cards, biometric_report

LABELS = {"salarie_en_mission": "Salariés en mission", "competences_et_talents": "Compétences et talents",
          "carte_bleue_europeenne": "Carte bleue européenne", "vie_privee_et_familiale": "Vie privée et familiale"}


def register(sub) -> None:
    p = sub.add_parser("report", help="reports the circular asks the préfectures for")
    rsub = p.add_subparsers(dest="report_command", required=True)
    bio = rsub.add_parser("biometrie", help="annex 2: cards produced without biometric data, for one month",
                          description="Titres de séjour délivrés sans données biométriques - guichet unique OFII "
                                      "(circulaire 2012, II.E.3 and annex 2): per category, the cards the préfecture "
                                      "produced in the month without fingerprints, with their AGDREF numbers.")
    bio.add_argument("--month", required=True, metavar="YYYY-MM", help="month of production")
    bio.add_argument("--csv", action="store_true", help="CSV (mois and one column per category) instead of a table")
    add_data(bio)
    bio.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.month):
        raise UsageError(f"--month: {args.month!r} is not of the form YYYY-MM")
    if not args.database_url and not (Path(args.data_dir) / "prefecture.sqlite3").is_file():
        raise UsageError(f"no préfecture register in {args.data_dir} (expected {args.data_dir}/prefecture.sqlite3)")
    register = Register.for_agency("prefecture", args.data_dir, args.database_url)
    try:
        states = [s for _, s in register.states()]
    finally:
        register.close()
    row = biometric_report(states).get(args.month, dict.fromkeys(BIOMETRIC_CATEGORIES, 0))
    if args.csv:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["mois", *BIOMETRIC_CATEGORIES])
        writer.writerow([args.month, *(row[c] for c in BIOMETRIC_CATEGORIES)])
        print(out.getvalue(), end="")
        return 0
    print(f"Titres de séjour délivrés sans données biométriques - guichet unique OFII - {args.month}")
    numbers = biometric_cards(states, args.month)
    for category in BIOMETRIC_CATEGORIES:
        print(f"  {LABELS[category]:<26} {row[category]:>4}   {' '.join(numbers.get(category, []))}")
    return 0
