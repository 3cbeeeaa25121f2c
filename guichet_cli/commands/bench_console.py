"""`guichet bench console`: the supervision console's latency per page under N concurrent readers."""

from __future__ import annotations

from guichet_operations.console.bench import DEFAULT_APP, run_console_bench


def add_console_bench(subparsers) -> None:
    p = subparsers.add_parser(
        "console",
        help="measure the supervision console: N people reading its main pages at once",
        description="Serve the console on the store with uvicorn in a process of its own; N threads each read "
        "the list, a filtered list, a search, a dossier, the deadline board and the error queue in turn for S "
        "seconds. Printed: per page the requests, p50 and p95 in ms, errors; then the console's peak RSS. Each "
        "person signs in with a lecture account the bench adds to the store and disables at the end, unless a "
        "session is given with --cookie NAME=VALUE or --header 'NAME: VALUE'.",
    )
    p.add_argument("--store", required=True, metavar="URL", help="sqlite:///PATH or postgresql://...")
    p.add_argument("--users", type=int, default=10, metavar="N", help="concurrent readers (default: 10)")
    p.add_argument("--seconds", type=float, default=30.0, metavar="S", help="how long (default: 30)")
    p.add_argument("--cookie", action="append", default=[], metavar="NAME=VALUE", help="a session cookie")
    p.add_argument("--header", action="append", default=[], metavar="NAME:VALUE", help="a header sent each time")
    p.add_argument("--app", default=DEFAULT_APP, metavar="MODULE:FACTORY", help="the ASGI factory served")
    p.set_defaults(func=run_bench_console)


def run_bench_console(args) -> int:
    cookies = dict(c.split("=", 1) for c in args.cookie)
    headers = {k.strip(): v.strip() for k, v in (h.split(":", 1) for h in args.header)}
    result = run_console_bench(args.store, args.users, args.seconds, headers, cookies, args.app)
    for line in result.lines():
        print(line)
    return 1 if any(result.errors.values()) else 0
