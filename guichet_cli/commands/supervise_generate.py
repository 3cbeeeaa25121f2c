"""`guichet supervise generate`: fill a supervision store with generated dossiers, to try the console
and measure it at national volume without a bus."""

from __future__ import annotations

import sys
import time

from guichet_operations.console.generate import generate
from guichet_operations.supervision.store import Store


def add_generate_command(subparsers) -> None:
    p = subparsers.add_parser(
        "generate",
        help="fill a supervision store with generated dossiers (for trying and measuring the console)",
        description="Add N generated dossiers to the store: varied titles, départements, outcomes, the task "
        "open at each one's step with its legal deadline around now (some past), breaches, about ten journal "
        "records each, and a few failed messages (about one per thousand dossiers, some with a truncated body). "
        "Bulk inserts in batches: a million dossiers take minutes.",
    )
    p.add_argument("--dossiers", type=int, required=True, metavar="N", help="how many dossiers to add")
    p.add_argument("--store", required=True, metavar="URL", help="sqlite:///PATH or postgresql://...")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed (default: 1)")
    p.set_defaults(func=run_generate)


def run_generate(args) -> int:
    store = Store(args.store)
    started = time.monotonic()
    try:
        step = max(args.dossiers // 20, 1)

        def progress(done: int) -> None:
            if done % step < 5_000 or done == args.dossiers:
                print(f"{done} dossiers, {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)

        result = generate(store, args.dossiers, seed=args.seed, progress=progress)
    finally:
        store.close()
    print(f"{result['dossiers']} dossiers and {result['failures']} failed messages added in "
          f"{time.monotonic() - started:.1f} s")  # fmt: skip
    return 0
