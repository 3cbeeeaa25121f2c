"""`guichet report biometrie`: annex 2 of the circular, from the préfecture's register."""

from __future__ import annotations

import argparse
import csv
import io
import re
from pathlib import Path

from guichet.register_reader import RegisterReader
from guichet_cli.commands.common import UsageError, add_data
from guichet_cli.settings import add_directory, settings_from
from schemas.dossier import DEPARTMENT_PATTERN
from services.directory import Directory
from services.views import BIOMETRIC_CATEGORIES, biometric_tables

LABELS = {
    "salarie_en_mission": "Salariés en mission",
    "competences_et_talents": "Compétences et talents",
    "carte_bleue_europeenne": "Carte bleue européenne",
    "vie_privee_et_familiale": "Vie privée et familiale",
}


def add_command(sub) -> None:
    p = sub.add_parser("report", help="reports the circular asks the préfectures for")
    rsub = p.add_subparsers(dest="report_command", required=True)
    bio = rsub.add_parser(
        "biometrie",
        help="annex 2: cards produced without biometric data, for one month",
        description="Titres de séjour délivrés sans données biométriques - guichet unique OFII "
        "(circulaire 2012, II.E.3 and annex 2): per category, the cards the préfecture "
        "produced in the month without fingerprints, listed by their holders' AGDREF "
        "dossier numbers, one table per préfecture.",
    )
    bio.add_argument("--month", required=True, metavar="YYYY-MM", help="month of production")
    bio.add_argument(
        "--prefecture",
        metavar="DEP",
        help="the préfecture (département code) whose table to print; default: one table per préfecture",
    )
    bio.add_argument(
        "--csv",
        action="store_true",
        help="CSV: prefecture, mois, then one column per category listing the AGDREF numbers",
    )
    add_data(bio)
    add_directory(bio)
    bio.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    directory = settings_from(args).directory_of_services  # as --directory or $GUICHET_DIRECTORY gives it
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.month):
        raise UsageError(f"--month: {args.month!r} is not of the form YYYY-MM")
    if args.prefecture is not None and not re.fullmatch(DEPARTMENT_PATTERN, args.prefecture):
        raise UsageError(f"--prefecture: {args.prefecture!r} is not a département code (e.g. 78, 2A, 974)")
    if not args.database_url and not (Path(args.data_dir) / "prefecture.sqlite3").is_file():
        raise UsageError(f"no préfecture register in {args.data_dir} (expected {args.data_dir}/prefecture.sqlite3)")
    with RegisterReader("prefecture", args.data_dir, args.database_url) as reader:
        states = list(reader.states().values())
    tables = {dep: months[args.month] for dep, months in biometric_tables(states, args.month, args.prefecture).items()}
    if args.prefecture is not None and args.prefecture not in tables:
        tables[args.prefecture] = {c: [] for c in BIOMETRIC_CATEGORIES}  # a month without any: an empty table
    print(_csv(args.month, tables) if args.csv else _readable(args.month, tables, directory), end="")
    return 0


def _csv(month: str, tables: dict[str, dict[str, list[str]]]) -> str:
    """The annex's columns, one per category; each column lists the AGDREF numbers of its cards."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["prefecture", "mois", *BIOMETRIC_CATEGORIES])
    for department, numbers in tables.items():
        rows = max(1, *(len(n) for n in numbers.values()))
        for i in range(rows):
            writer.writerow([department, month, *(_nth(numbers[c], i) for c in BIOMETRIC_CATEGORIES)])
    return out.getvalue()


def _nth(numbers: list[str], i: int) -> str:
    return numbers[i] if i < len(numbers) else ""


def _readable(month: str, tables: dict[str, dict[str, list[str]]], directory: Directory) -> str:
    lines = [f"Titres de séjour délivrés sans données biométriques - guichet unique OFII - {month}"]
    if not tables:
        lines.append("  aucun titre produit sans empreinte ce mois-ci")
    for department, numbers in tables.items():
        lines.append(directory.prefecture_label(department))
        for category in BIOMETRIC_CATEGORIES:
            listed = numbers[category]
            lines.append(f"  {LABELS[category]:<26} {len(listed):>4}   {' '.join(listed)}".rstrip())
    return "\n".join(lines) + "\n"
