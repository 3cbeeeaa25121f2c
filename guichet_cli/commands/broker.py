"""`guichet broker setup|verify`: the broker's accounts, permissions and policies (guichet_operations.broker_admin)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from guichet_cli.commands.common import USER_PREFIX_VARIABLE, UsageError, add_queue_type, require_rabbitmq
from guichet_cli.settings import add_tls, tls_from
from guichet_operations import broker_admin
from guichet_operations.broker_policies import Limits


def add_command(sub) -> None:
    p = sub.add_parser(
        "broker",
        help="create or check the broker's accounts, permissions and policies",
        description="One RabbitMQ account per agency and per operator role (operateur, employeur), "
        "each allowed to publish only the routing keys of its own message types and to "
        "read only its own queues, with no management tag and a limit of connections and "
        "channels; every queue bounded by a policy; the topology is declared by the "
        "administrator. Needs the management plugin (rabbitmq-plugins enable "
        "rabbitmq_management).",
    )
    bsub = p.add_subparsers(dest="broker_command", required=True)
    for name, text, func in (
        (
            "setup",
            (
                "create or repair the vhost, the accounts, their permissions, the policies and the "
                "topology; a second run changes nothing"
            ),
            setup,
        ),
        ("verify", "print the drift between the broker and what setup makes; exit 1 when there is some", verify),
    ):
        c = bsub.add_parser(name, help=text, description=text)
        # From the environment too, so that the administrator's password need not be on a command line.
        admin_url = os.environ.get("GUICHET_BROKER_ADMIN_URL") or None
        c.add_argument(
            "--broker",
            required=admin_url is None,
            default=admin_url,
            metavar="ADMIN_URL",
            help="AMQP URL of an administrator, e.g. amqp://admin:PASSWORD@127.0.0.1:5672// "
            "(default: $GUICHET_BROKER_ADMIN_URL)",
        )
        c.add_argument(
            "--management-url",
            default=os.environ.get("GUICHET_MANAGEMENT_URL") or None,
            metavar="URL",
            help="management API (default: $GUICHET_MANAGEMENT_URL, else "
            "http://<same user:password>@<same host>:15672/)",
        )
        c.add_argument("--vhost", default="/", help="virtual host of the bus (default: /)")
        c.add_argument(
            "--namespace", default="guichet", help="prefix of every exchange and queue name (default: guichet)"
        )
        c.add_argument(
            "--credentials",
            default="broker-credentials.json",
            metavar="FILE",
            help="JSON {user: password}, mode 0600; setup generates the missing passwords and reuses "
            "the others (default: ./broker-credentials.json)",
        )
        c.add_argument(
            "--user-prefix",
            default=os.environ.get(USER_PREFIX_VARIABLE) or "",
            metavar="PREFIX",
            help="prefix of the account names, e.g. 'recette-' for a second bus on the same broker; the "
            "commands that connect with --credentials take the same --user-prefix to find their "
            f"account (default: ${USER_PREFIX_VARIABLE}, else none)",
        )
        actors = c.add_mutually_exclusive_group()
        actors.add_argument(
            "--simulated-actors",
            action="store_true",
            help="the OFII's account may also send the employer's and the worker's messages to "
            "itself, as its simulated actors do (for `guichet run ofii --simulated-actors`, "
            "a test or training bus); off by default, as in `guichet run`",
        )
        actors.add_argument(
            "--no-simulated-actors",
            action="store_false",
            dest="simulated_actors",
            help="the default; kept for scripts written when simulated actors were on by default",
        )
        add_queue_type(c)
        if name == "setup":  # setup declares the topology over AMQP; verify reads the management API only
            add_tls(c)
        _add_limits(c)
        c.add_argument("--json", action="store_true", help="JSON for scripts")
        if name == "setup":
            c.add_argument(
                "--show-passwords",
                action="store_true",
                help="print each account's password in its URL (text and --json); without it the "
                "URLs carry no password, which stays in --credentials (mode 0600) only",
            )
        c.set_defaults(func=func)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value}: give 1 or more")
    return value


def _add_limits(c: argparse.ArgumentParser) -> None:
    default = Limits()
    c.add_argument(
        "--max-queue-length",
        type=_count,
        default=default.queue_length,
        metavar="N",
        help="messages a queue holds at most; a publish beyond is refused (nacked), nothing is dropped "
        f"(default: {default.queue_length})",
    )
    c.add_argument(
        "--max-queue-bytes",
        type=_count,
        default=default.queue_bytes,
        metavar="BYTES",
        help=f"bytes of message bodies a queue holds at most, likewise (default: {default.queue_bytes})",
    )
    c.add_argument(
        "--max-connections",
        type=_count,
        default=default.connections,
        metavar="N",
        help=f"connections each account may open; a service process opens 2 (default: {default.connections})",
    )
    c.add_argument(
        "--max-channels",
        type=_count,
        default=default.channels,
        metavar="N",
        help="channels each account may have open across its connections; a service process uses a "
        f"few (default: {default.channels})",
    )


def _state(args: argparse.Namespace, create: bool) -> tuple[str, broker_admin.State]:
    require_rabbitmq(args.broker, "the AMQP URL of a RabbitMQ administrator (amqp://user:pass@host:5672/)")
    users = [f"{args.user_prefix}{role}" for role in broker_admin.ROLES]
    path = Path(args.credentials)
    if not create and not path.exists():
        print(f"guichet broker verify: {path} not found, passwords not checked", file=sys.stderr)
    try:
        passwords = broker_admin.load_passwords(path, users, create=create)
    except (OSError, ValueError) as exc:
        raise UsageError(f"--credentials {path}: {exc}") from None
    state = broker_admin.desired_state(
        args.vhost,
        args.namespace,
        passwords,
        user_prefix=args.user_prefix,
        simulated_actors=args.simulated_actors,
        queue_type=args.queue_type,
        limits=Limits(args.max_queue_length, args.max_queue_bytes, args.max_connections, args.max_channels),
    )
    return args.management_url or broker_admin.management_url(args.broker), state


def setup(args: argparse.Namespace) -> int:
    tls = tls_from(args)  # a TLS option with an amqp:// URL is refused before any password is generated
    admin, state = _state(args, create=True)
    try:
        result = broker_admin.apply(admin, state, amqp_url=args.broker, tls=tls)
        remaining = broker_admin.verify(admin, state)
    except broker_admin.BrokerAdminError as exc:
        raise UsageError(str(exc)) from None
    credentials = str(Path(args.credentials).resolve())

    def shown(password: str) -> str | None:
        return password if args.show_passwords else None

    accounts = [
        {
            "user": name,
            "role": user["role"],
            "status": result["users"][name],
            "url": broker_admin.service_url(args.broker, name, shown(user["password"]), state.vhost),
        }
        for name, user in state.users.items()
    ]
    if args.json:
        print(
            json.dumps(
                {
                    "vhost": state.vhost,
                    "namespace": state.namespace,
                    "credentials": credentials,
                    "passwords_shown": args.show_passwords,
                    "accounts": accounts,
                    "changes": result["changes"],
                    "drift": remaining,
                },
                indent=2,
            )
        )
    else:
        print(f"vhost {state.vhost!r}, namespace {state.namespace}: {len(result['changes'])} change(s)")
        for a in accounts:
            print(f"  {a['status']:<9} {a['user']:<24} {a['url']}")
        print(
            f"passwords kept in {credentials} (mode 0600)"
            + ("" if args.show_passwords else "; --credentials reads them, --show-passwords prints them")
        )
        for line in remaining:  # e.g. another user's permission: not setup's to revoke
            print(f"  still drifting: {line}", file=sys.stderr)
    return 0


def verify(args: argparse.Namespace) -> int:
    admin, state = _state(args, create=False)
    try:
        drift = broker_admin.verify(admin, state)
    except broker_admin.BrokerAdminError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        print(json.dumps({"vhost": state.vhost, "namespace": state.namespace, "drift": drift}, indent=2))
    else:
        print("\n".join(drift) if drift else "no drift")
    return 1 if drift else 0
