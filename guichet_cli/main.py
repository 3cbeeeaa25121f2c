"""The `guichet` command."""

from __future__ import annotations

import argparse
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from amqp.exceptions import AccessRefused

from guichet import logs
from guichet.configuration import ConfigurationError
from guichet.declaration import TopologyMismatch
from guichet.register import RegisterVersionError
from guichet_cli.commands import (
    asyncapi_cmd,
    bench,
    broker,
    chaos,
    conformance,
    console_accounts,
    directory_cmd,
    dossier,
    errors,
    journal,
    keys,
    ops,
    proof,
    refusals,
    register_cmd,
    report,
    retention_cmd,
    run,
    scenario_cmd,
    schemas_cmd,
    simulate,
    submit,
    supervise,
)
from services.scenario import ScenarioError


def installed_version() -> str:
    """The version pip installed (pyproject.toml's), not a copy of it kept by hand."""
    try:
        return version("guichet")
    except PackageNotFoundError:
        return "unknown (run from a source tree that was not installed: scripts/setup installs it)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="guichet",
        description="The OFII 'guichet unique' for qualified foreign workers, carried on a message bus between "
        "the DT-OFII, the SMOE, the consulates and the préfectures (circulaire NOR INTV1231400C).",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"guichet {installed_version()}",
        help="print the installed version of guichet and exit (say it in every report of a fault)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("GUICHET_LOG_LEVEL"),
        help="debug, info, warning, error (default: warning for simulate, info otherwise)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        simulate,
        scenario_cmd,
        run,
        submit,
        dossier,
        directory_cmd,
        report,
        errors,
        refusals,
        journal,
        proof,
        register_cmd,
        retention_cmd,
        keys,
        broker,
        bench,
        chaos,
        conformance,
        schemas_cmd,
        asyncapi_cmd,
        ops,
        supervise,
        console_accounts,
    ):
        module.add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.configure(args.log_level or ("warning" if args.command in ("simulate", "bench", "conformance") else "info"))
    try:
        return args.func(args)
    except (ScenarioError, ConfigurationError) as exc:
        print(f"guichet {args.command}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except ConnectionError as exc:
        print(f"guichet {args.command}: cannot reach the broker: {exc}", file=sys.stderr)
        return 3
    except AccessRefused as exc:
        print(f"guichet {args.command}: the broker refused this account the operation: {exc}", file=sys.stderr)
        return 4
    except TopologyMismatch as exc:
        print(f"guichet {args.command}: {exc}", file=sys.stderr)
        return 5
    except RegisterVersionError as exc:
        print(f"guichet {args.command}: {exc}", file=sys.stderr)
        return 6


if __name__ == "__main__":
    sys.exit(main())
