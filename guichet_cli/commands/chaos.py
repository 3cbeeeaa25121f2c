"""`guichet chaos`: nothing lost, nothing doubled, while services and the broker are killed."""

from __future__ import annotations

import argparse
import json
import os
import sys

from guichet_cli.commands.common import UsageError, require_rabbitmq
from guichet_cli.settings import add_signing, add_tls, settings_from
from guichet_simulation.chaos import DEFAULT_BROKER_RESTART, run_chaos


def add_command(sub) -> None:
    p = sub.add_parser(
        "chaos",
        help="kill services and restart the broker while dossiers go through; count losses",
        description="Start the four services as processes on RabbitMQ, file N dossiers of several "
        "shapes (every outcome of the circular), SIGKILL a random service every few "
        "seconds and restart it, restart RabbitMQ once, and check every dossier against "
        "the outcome the same scenario reaches undisturbed. Prints each dossier, then "
        "'lost: K' and 'duplicated: K' (steps recorded, cards produced or handed over "
        "more than once). Exit 1 when either is not 0. With --key-directory the "
        "services sign and check every message and each filing is signed with the key "
        "of its employer (by SIRET): --keys-dir must then hold the four agencies' keys, "
        "the worker's and the employer's (guichet keys init, folders joined with ':').",
    )
    p.add_argument("--dossiers", type=int, default=200, metavar="N", help="dossiers to file (default: 200)")
    p.add_argument("--broker", required=True, metavar="URL", help="RabbitMQ URL (amqp://...)")
    p.add_argument("--kill-every", type=float, default=3.0, metavar="S", help="seconds between two kills (default: 3)")
    p.add_argument(
        "--time-scale",
        type=float,
        default=200_000,
        metavar="X",
        help="clock compression shared by the services (default: 200000, a legal day in 0.43 s)",
    )
    p.add_argument(
        "--broker-restart",
        default=DEFAULT_BROKER_RESTART,
        metavar="COMMAND",
        help=f"shell command that restarts RabbitMQ (default: '{DEFAULT_BROKER_RESTART}'); 'none' to skip",
    )
    p.add_argument("--timeout", type=float, default=900, metavar="S", help="give up after S seconds (default: 900)")
    p.add_argument("--seed", type=int, help="random seed, to replay the same kills")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")
    add_tls(p)
    add_signing(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # The service processes (and the raw relay) started below read the same settings as variables.
    settings = settings_from(args)
    os.environ.update(settings.child_environment())
    require_rabbitmq(args.broker, "chaos runs the services as separate processes, which cannot share memory://")
    if args.dossiers < 1:
        raise UsageError("--dossiers must be at least 1")
    restart = None if args.broker_restart.strip().lower() == "none" else args.broker_restart
    result = run_chaos(
        args.broker,
        args.dossiers,
        time_scale=args.time_scale,
        kill_every=args.kill_every,
        broker_restart=restart,
        timeout=args.timeout,
        seed=args.seed,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
        trust=settings.signing.trust(),
        tls=settings.tls,
        directory=settings.directory_of_services,
    )
    lost, duplicated = result.lost_ids, result.duplicated_ids
    if args.json:
        print(
            json.dumps(
                {
                    "dossiers": [
                        {"id": d, "expected": o, "got": result.got.get(d), "ok": result.got.get(d) == o}
                        for d, o in result.expected.items()
                    ],
                    "kills": result.kills,
                    "broker_restarts": result.broker_restarts,
                    "timed_out": result.timed_out,
                    "lost": len(lost),
                    "duplicated": len(duplicated),
                    "lost_ids": lost,
                    "duplicated_ids": duplicated,
                },
                indent=2,
            )
        )
    else:
        for dossier_id, outcome in result.expected.items():
            got = result.got.get(dossier_id)
            print(f"{dossier_id}  expected {outcome:<32} got {got or '-':<32} {'ok' if got == outcome else 'LOST'}")
        kills = ", ".join(f"{a} {result.kills.count(a)}" for a in sorted(set(result.kills)))
        print(f"kills: {len(result.kills)} ({kills})")
        print(f"broker restarts: {result.broker_restarts}")
        print(f"lost: {len(lost)}")
        print(f"duplicated: {len(duplicated)}")
    return 0 if not lost and not duplicated and not result.timed_out else 1
