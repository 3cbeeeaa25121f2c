"""`guichet bench`: the bus's throughput, hop latency and memory, against a raw kombu relay."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from guichet.serve import DEFAULT_PREFETCH
from guichet_cli.commands.bench_console import add_console_bench
from guichet_cli.commands.bench_report import DELIVERIES_PER_DOSSIER, render
from guichet_cli.commands.bench_supervision import SupervisionWatch, default_store
from guichet_cli.commands.common import UsageError, prefetch_count, require_rabbitmq
from guichet_cli.settings import add_signing, add_tls, settings_from
from guichet_simulation.benchmark.bus_run import BenchError, run_bus
from guichet_simulation.benchmark.raw_chain import run_raw
from guichet_simulation.benchmark.raw_relay import RELAY_PREFETCH, RawRelayError

# Real time. With zero-delay facts no step waits on the clock; a compressed clock would only make
# the legal timers (deadline-watch reminders at 80 % of a 48-hour period, the two-month production
# échéance) fire during a long run and add their messages to the workload.
DEFAULT_TIME_SCALE = 1.0


def add_command(sub) -> None:
    p = sub.add_parser(
        "bench",
        help="measure the bus: four service processes, N dossiers, against a raw kombu relay",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="""\
Start the four agency services (ofii, smoe, consulat, prefecture) as separate `guichet run`
processes on a namespace of their own, file N dossiers with the DT-OFII and wait until the
DT-OFII has recorded each as 'titre_remis'. Then, on the same broker, push N messages of the
bus's mean body size through a chain of plain kombu relays with as many hops as the bus made
per dossier (one process per hop: consume, confirmed publish, ack). Both namespaces are deleted
afterwards.

The dossiers are cartes bleues européennes (no medical visit, hence no 30-day convocation) whose
simulated people act with zero delay, so the run measures the bus rather than the calendar.
With --key-directory the services sign and check every message, and each filing is signed with
its employer's key (by SIRET, as the employers' portal signs): --keys-dir then holds the agencies'
keys, the worker's and the employer's (`guichet keys init` folders joined with ':').

Printed: dossiers/s and messages/s (every publish the broker confirmed between the first filing
and the last dossier done), per-hop latency p50/p99 (from the start of the sending service's
handler, or the bench's filing, to the start of the receiving service's handler, read from the
agencies' journals), each service's peak RSS (VmHWM), the raw relay's messages/s and the line
'ratio bus/raw: X.XX' (bus messages/s over raw messages/s).""",
    )
    p.add_argument("--dossiers", type=int, default=100, metavar="N", help="dossiers to push through (default: 100)")
    p.add_argument(
        "--broker",
        metavar="URL",
        help="RabbitMQ URL, amqp://user:pass@host:5672/vhost; memory:// is refused, since separate "
        "processes cannot share an in-process broker (required, but for `bench console`)",
    )
    p.add_argument(
        "--time-scale",
        type=float,
        default=DEFAULT_TIME_SCALE,
        metavar="X",
        help="clock compression shared by the services (default: %(default)g, real time). With "
        "zero-delay facts no step waits on the clock; a larger X only brings the legal timers "
        "(deadline-watch reminders, échéances) into the run, where they are counted and reported",
    )
    p.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help="limit for each of the two parts, from the first filing or injection "
        "(default: 60 + 0.5 per dossier); on timeout the bench reports what finished and exits 1",
    )
    p.add_argument(
        "--prefetch",
        type=prefetch_count,
        default=DEFAULT_PREFETCH,
        metavar="N",
        help="unacknowledged deliveries per consumer of the services, and so their largest batch "
        "(default: %(default)s, as `guichet run`)",
    )
    p.add_argument(
        "--relay-prefetch",
        type=prefetch_count,
        default=RELAY_PREFETCH,
        metavar="N",
        help="unacknowledged deliveries per raw relay (default: %(default)s); a relay handles one "
        "message at a time whatever its prefetch",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="keep the registers and the service and relay logs there (default: a temporary folder, deleted)",
    )
    p.add_argument(
        "--rate",
        type=float,
        metavar="R",
        help="offer R messages/s instead of a burst: file one dossier every 13/R seconds (a dossier "
        "makes 13 deliveries, its filing included) for --seconds, then wait until all are done; "
        "the latency lines are then those of that steady load (no raw relay part, no ratio)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        metavar="S",
        help="with --rate: how long the dossiers are filed (default: %(default)g)",
    )
    p.add_argument(
        "--ofii-processes",
        type=int,
        default=1,
        metavar="N",
        help="DT-OFII processes on its one queue and register (default: 1)",
    )
    p.add_argument(
        "--broker-restart",
        action="store_true",
        help="restart RabbitMQ (rabbitmqctl stop_app, start_app) once the services consume, then file "
        "the dossiers; prints the time from the broker's port answering again to the DT-OFII's "
        "first handled delivery. Disturbs every other user of that broker",
    )
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    add_tls(p)
    add_signing(p)
    p.set_defaults(func=run)
    p.add_argument(
        "--supervision",
        action="store_true",
        help="run the supervision service beside the bus (in this process) and print each audit copy's lag "
        "and how long after the last hand-over its store shows every dossier",
    )
    p.add_argument(
        "--supervision-store",
        metavar="URL",
        help="the supervision service's store for --supervision (default: SQLite in the bench's directory)",
    )
    add_console_bench(p.add_subparsers(dest="bench_target", metavar="TARGET"))


def _check(args: argparse.Namespace) -> None:
    if not args.broker:
        raise UsageError("guichet bench needs --broker (a RabbitMQ URL)")
    require_rabbitmq(args.broker, "the four services run as separate processes and cannot share an in-process broker")
    if args.dossiers < 1:
        raise UsageError("--dossiers must be at least 1")
    if args.time_scale <= 0:
        raise UsageError("--time-scale must be positive")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    if args.rate is not None and (args.rate <= 0 or args.seconds <= 0):
        raise UsageError("--rate and --seconds must be positive")
    if args.ofii_processes < 1:
        raise UsageError("--ofii-processes must be at least 1")


def broker_label(url: str) -> str:
    """host:port and vhost, never the credentials."""
    parts = urlsplit(url)
    host = parts.hostname or "localhost"
    port = parts.port or (5671 if parts.scheme == "amqps" else 5672)
    vhost = unquote(parts.path[1:]) if len(parts.path) > 1 else "/"
    return f"{host}:{port} vhost {vhost}"


def run(args: argparse.Namespace) -> int:
    # The service processes (and the raw relay) started below read the same settings as variables.
    settings = settings_from(args)
    os.environ.update(settings.child_environment())
    _check(args)
    if args.rate is not None:
        args.dossiers = max(1, round(args.rate * args.seconds / DELIVERIES_PER_DOSSIER))
    timeout = args.timeout if args.timeout is not None else 60 + 0.5 * args.dossiers
    tmp = None
    if args.data_dir:
        data_dir = Path(args.data_dir)
    else:
        tmp = tempfile.mkdtemp(prefix="guichet-bench-")
        data_dir = Path(tmp)

    def progress(line: str) -> None:
        print(f"bench: {line}", file=sys.stderr, flush=True)

    figures: dict = {
        "broker": broker_label(args.broker),
        "prefetch": args.prefetch,
        "relay_prefetch": args.relay_prefetch,
        "offered_rate": args.rate,
        "ofii_processes": args.ofii_processes,
    }
    status = 0
    try:
        namespace = f"bench-{uuid.uuid4().hex[:10]}"
        watch = None
        if args.supervision:
            store = args.supervision_store or default_store(data_dir)
            watch = SupervisionWatch(args.broker, namespace, store, settings.tls).start()
        try:
            bus = run_bus(
                args.broker,
                args.dossiers,
                args.time_scale,
                timeout,
                data_dir / "bus",
                prefetch=args.prefetch,
                progress=progress,
                dossiers_per_s=args.rate / DELIVERIES_PER_DOSSIER if args.rate else None,
                ofii_processes=args.ofii_processes,
                broker_restart=args.broker_restart,
                trust=settings.signing.trust(),
                tls=settings.tls,
                directory=settings.directory_of_services,
                namespace=namespace,
                before_stop=(lambda done: figures.update(supervision=watch.figures(done)))
                if watch
                else lambda done: None,
            )
        except BenchError as exc:
            if watch is not None:
                watch.close()
            print(f"guichet bench: {exc}", file=sys.stderr)
            return 1
        if watch is not None:
            watch.close()
        figures.update(bus.figures())
        if bus.done < args.dossiers or args.rate is not None or args.broker_restart:
            status = 1 if bus.done < args.dossiers else 0
            figures["raw"] = None
            figures["ratio"] = None
        else:
            hops = max(1, round(bus.hops_per_dossier))
            progress(f"raw relay: {hops} hops, {args.dossiers} messages of {bus.body_bytes} bytes")
            try:
                raw = run_raw(
                    args.broker,
                    hops,
                    args.dossiers,
                    bus.body_bytes,
                    data_dir / "raw",
                    timeout,
                    prefetch=args.relay_prefetch,
                )
            except RawRelayError as exc:
                print(f"guichet bench: raw relay: {exc}", file=sys.stderr)
                raw, status = None, 1
            figures["raw"] = raw
            bus_rate = figures["messages_per_s"]
            figures["ratio"] = round(bus_rate / raw["messages_per_s"], 2) if raw and raw["messages_per_s"] else None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    else:
        print(render(figures))
    return status
