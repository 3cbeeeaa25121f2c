"""A session for the console bench when none is given: a `lecture` account of its own in the store
(a random name and password), each simulated person signed in through the console's own form, and
the account disabled when the bench ends, so that nothing usable is left behind. The served console
gets a sign-in configuration for this machine alone (127.0.0.1, no TLS)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import httpx

from guichet_operations.console.auth.accounts import Accounts
from guichet_operations.supervision.store import Store

NAME = "Banc d'essai de la console"


def sign_in(client: httpx.Client, identifier: str, password: str) -> None:
    """The sign-in form as a browser fills it: its CSRF token first, then the identifier and password."""
    form = client.get("/connexion", params={"suite": "/"})
    found = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
    if form.status_code != 200 or found is None:
        raise RuntimeError(f"the console's sign-in form did not answer ({form.status_code})")
    fields = {"identifiant": identifier, "mot_de_passe": password, "csrf_token": found.group(1), "suite": "/"}
    done = client.post("/connexion", data=fields)
    if done.status_code != 303:
        raise RuntimeError(f"signing in as {identifier} was refused ({done.status_code})")


def served_environment() -> dict[str, str]:
    """The sign-in configuration of the console the bench serves (console/auth/environment.py)."""
    return {
        "GUICHET_CONSOLE_SECRET": secrets.token_hex(32),
        "GUICHET_CONSOLE_HOSTS": "127.0.0.1",
        "GUICHET_CONSOLE_HTTPS": "0",
    }


@contextmanager
def bench_account(store_url: str) -> Iterator[tuple[str, str]]:
    identifier, password = f"banc-{secrets.token_hex(4)}", secrets.token_urlsafe(18)
    store = Store(store_url)
    try:
        accounts = Accounts(store)
        accounts.add(identifier, NAME, "lecture", password, datetime.now(UTC))
        yield identifier, password
    finally:
        try:
            accounts.disable(identifier, datetime.now(UTC))
        finally:
            store.close()
