"""The console behind its real sign-in, for the tests of its pages: each person an account of the
store's own, signed in through the sign-in form as a browser would, with the CSRF token the pages give
that person's session."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime
from typing import Any

from starlette.testclient import TestClient

from guichet_operations.console.app import ConsoleConfig, create_console
from guichet_operations.console.auth import AuthConfig
from guichet_operations.console.auth.accounts import Accounts
from guichet_operations.console.bench_session import sign_in
from guichet_operations.supervision.store import Store

PASSWORD = "un mot de passe de test"
AUTH = AuthConfig(session_secret="une clé de session pour les tests de la console", allowed_hosts=["testserver"],
                  https_only=False)  # fmt: skip


class Person(TestClient):
    csrf: str


class SignedIn:
    def __init__(self, store: Store, **config: Any):
        self.store = store
        self.app = create_console(store, ConsoleConfig(auth=AUTH, **config))
        self._people: dict[tuple[str, str, str], Person] = {}
        self._lock = threading.Lock()  # tests open pages from several threads as the same person

    def anonymous(self) -> TestClient:
        return TestClient(self.app, follow_redirects=False)

    def person(self, role: str = "lecture", identifier: str | None = None, name: str = "Camille Martin") -> Person:
        identifier = identifier or f"{role}-1"
        key = (role, identifier, name)
        with self._lock:
            return self._people.get(key) or self._sign_in(key)

    def _sign_in(self, key: tuple[str, str, str]) -> Person:
        role, identifier, name = key
        Accounts(self.store).add(identifier, name, role, PASSWORD, datetime.now(UTC))
        client = Person(self.app, follow_redirects=False)
        sign_in(client, identifier, PASSWORD)
        found = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/services").text)
        assert found, "every page carries the session's CSRF token (the sign-out form)"
        client.csrf = found.group(1)
        self._people[key] = client
        return client
