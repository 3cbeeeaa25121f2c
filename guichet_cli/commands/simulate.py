"""`guichet simulate`: the scenario contract (shared/acceptance/CONTRACT.md)."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from guichet_cli.commands.common import whole_number_between
from guichet_cli.settings import add_directory, add_tls, settings_from
from guichet_simulation.harness import Simulation
from guichet_simulation.output import write_document
from guichet_simulation.progress import MIN_DOSSIERS, ProgressLine
from guichet_simulation.scenario_file import ScenarioFile
from guichet_simulation.shards import default_workers, sharded_session
from guichet_simulation.table import render

EXAMPLE = "example"


def add_command(sub) -> None:
    p = sub.add_parser(
        "simulate",
        help="replay a scenario of dossiers through the four agencies",
        description="Run the four agency services over the bus on a virtual clock and print what "
        "became of each dossier. Without --broker: the embedded default (in-memory "
        "transport, SQLite in a temporary folder). With --broker: the same services "
        "over RabbitMQ, on queues of their own that are deleted afterwards.",
    )
    p.add_argument(
        "--scenario",
        default=EXAMPLE,
        metavar="FILE",
        help="scenario JSON file (default: the example shipped with guichet)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON document (the scenario contract)")
    p.add_argument(
        "--broker",
        metavar="URL",
        default="memory://",
        help="amqp://... to run over RabbitMQ (default: memory://, in-process)",
    )
    p.add_argument("--data-dir", metavar="DIR", help="keep the agencies' registers there (default: a temporary folder)")
    p.add_argument(
        "--workers",
        type=whole_number_between(1, 64, "a number of processes"),
        metavar="N",
        help="on the embedded default, split the dossiers across N processes, each with its own four "
        "agencies (default: one per core, for scenarios of 1,000 dossiers or more per process; "
        "the result is the same)",
    )
    add_tls(p)
    add_directory(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.scenario == EXAMPLE:
        path = resources.files("guichet_simulation") / "examples" / "guichet-unique.json"
    else:
        path = args.scenario
    settings = settings_from(args)
    directory = settings.directory_of_services
    scenario = ScenarioFile(path, directory)
    # On a terminal, a large scenario shows its progress on standard error; standard output keeps the
    # result alone (the JSON document, or the table).
    line = ProgressLine(sys.stderr, len(scenario)) if sys.stderr.isatty() and len(scenario) >= MIN_DOSSIERS else None
    workers = args.workers or default_workers(len(scenario))
    if workers > 1 and args.broker.startswith("memory://"):
        session = sharded_session(
            scenario,
            min(workers, len(scenario)),
            directory,
            Path(args.data_dir) if args.data_dir else None,
            on_progress=line,
            freshness=settings.freshness,
        )
    else:
        session = Simulation(
            scenario,
            broker_url=args.broker,
            data_dir=args.data_dir,
            tls=settings.tls,
            freshness=settings.freshness,
            on_progress=line,
            directory=directory,
        ).session()
    try:
        with session as outcome:
            if line is not None:
                line.close()
                line = None
            failures = outcome.failed()
            if args.json:
                # Streamed: a year of dossiers is written one dossier at a time, never held whole.
                write_document(
                    sys.stdout,
                    outcome.dossiers(),
                    [
                        ("biometric_report", outcome.biometric_report),
                        ("biometric_tables", outcome.biometric_tables),
                        ("errors", outcome.errors),
                        ("failed", failures),
                    ],
                )
            else:
                print(render(outcome.as_dict(), directory))
    finally:
        if line is not None:
            line.close()
    # The contract: exit 1, naming the dossier and the error, when a dossier could not be carried
    # to its outcome because one of its messages ended in the error queue.
    for failed in failures:
        error = (failed["error"] or "").splitlines()[0] if failed["error"] else "unknown error"
        at = f"{failed['type']} at {failed['agency']}" if failed["type"] else failed["agency"]
        print(f"guichet simulate: dossier {failed['id']}: {at} went to the error queue: {error}", file=sys.stderr)
    return 1 if failures else 0
