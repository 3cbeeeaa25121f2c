"""`guichet console account add|list|disable`: the supervision console's own accounts, in the
supervision store (--store). A password is read from standard input, never from the command line,
where `ps` and the shell's history would show it."""

from __future__ import annotations

import argparse
import getpass
import sys
from datetime import UTC, datetime

from guichet_cli.commands.common import UsageError

ROLES = ("lecture", "agent", "operateur", "administrateur")  # guichet_operations.console.auth.people.ROLES
# Which option or argument each field of an account comes from, to name it in an error.
FIELDS = {"identifiant": "IDENT", "nom": "--name", "rôle": "--role", "mot de passe": "the password (standard input)"}


def add_command(sub) -> None:
    p = sub.add_parser(
        "console",
        help="the supervision console's accounts",
        description="The supervision console (issue 22): its own accounts, beside sign-in through the "
        "administration's OpenID Connect federation. See docs/console-access.md.",
    )
    add_account_commands(p.add_subparsers(dest="console_command", required=True, metavar="COMMAND"))


def add_account_commands(sub) -> None:
    p = sub.add_parser("account", help="add, list or disable the console's own accounts")
    asub = p.add_subparsers(dest="account_command", required=True, metavar="ACTION")

    add = asub.add_parser(
        "add",
        help="add an account; its password is read from standard input",
        description="Add a console account. The password is read from standard input (one line; asked "
        "twice, without echo, on a terminal), never from the command line: "
        "printf '%%s\\n' \"$PASSWORD\" | guichet console account add ...",
    )
    add.add_argument("identifier", metavar="IDENT", help="what the person types to sign in (no spaces)")
    add.add_argument("--name", required=True, help="the person's name, as the action journal shows it")
    add.add_argument("--role", required=True, choices=ROLES, help="what the person may see and do")
    add.add_argument(
        "--password-stdin",
        action="store_true",
        default=True,
        help="read the password from standard input (the default, and the only way)",
    )
    _store(add)
    add.set_defaults(func=run_add)

    listing = asub.add_parser("list", help="list the accounts (never their passwords)")
    _store(listing)
    listing.set_defaults(func=run_list)

    disable = asub.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("identifier", metavar="IDENT")
    _store(disable)
    disable.set_defaults(func=run_disable)


def _store(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        required=True,
        metavar="URL",
        help="the supervision store: sqlite:///PATH or postgresql://... (schema `supervision`)",
    )


def _open(url: str):
    try:
        from guichet_operations.console.auth.accounts import AccountError, Accounts
    except ImportError as exc:
        raise UsageError(f"console accounts need the console's stack: pip install 'guichet[ops]' ({exc})") from None
    from guichet_operations.supervision.store import Store

    return Store(url), Accounts, AccountError


def _field_error(exc: Exception) -> UsageError:
    text = str(exc)
    field = next((option for name, option in FIELDS.items() if text.startswith(name)), None)
    return UsageError(f"{field}: {text}" if field else text)


def read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Le même, encore : ") != first:
            raise UsageError("the password (standard input): the two entries differ")
        return first
    line = sys.stdin.readline()
    if not line.strip():
        raise UsageError("the password (standard input): none was given; pipe it in, one line")
    return line.rstrip("\r\n")


def run_add(args: argparse.Namespace) -> int:
    password = read_password()
    store, accounts, account_error = _open(args.store)
    try:
        accounts(store).add(args.identifier, args.name, args.role, password, datetime.now(UTC))
    except account_error as exc:
        raise _field_error(exc) from None
    finally:
        store.close()
    print(f"guichet console account add: {args.identifier} ({args.role}) added")
    return 0


def run_list(args: argparse.Namespace) -> int:
    store, accounts, _ = _open(args.store)
    try:
        rows = accounts(store).listing()
    finally:
        store.close()
    for row in rows:
        locked = f"locked until {row['locked_until']}" if row["locked_until"] else ""
        state = "disabled" if row["disabled"] else locked
        print("\t".join([row["identifier"], row["role"], row["name"], state]).rstrip())
    return 0


def run_disable(args: argparse.Namespace) -> int:
    from guichet_operations.console.auth.config import AuthConfig
    from guichet_operations.console.auth.sessions import Sessions

    store, accounts, account_error = _open(args.store)
    try:
        accounts(store).disable(args.identifier, datetime.now(UTC))
        # Only the store's tables are touched here: the secret and hosts of this AuthConfig are not used.
        ended = Sessions(store, AuthConfig("-" * 32, ["-"], https_only=True)).end_all_of(args.identifier)
    except account_error as exc:
        raise _field_error(exc) from None
    finally:
        store.close()
    print(f"guichet console account disable: {args.identifier} disabled, {ended} session(s) ended")
    return 0
