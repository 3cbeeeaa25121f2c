"""A stand-in for guichet_operations.console.auth (written elsewhere), for the console's tests only: the
person is read from the `X-Test-Person` header (`role:identifier:Name`), the CSRF token is fixed.
`installed()` puts it in sys.modules under the real package's name, before the console is imported."""

from __future__ import annotations

import functools
import sys
import types
from dataclasses import dataclass

ROLES = ("lecture", "agent", "operateur", "administrateur")
HEADER = "X-Test-Person"
TOKEN = "jeton-de-test"


@dataclass(frozen=True)
class Person:
    identifier: str
    name: str
    role: str

    def can(self, role: str) -> bool:
        return ROLES.index(self.role) >= ROLES.index(role)


def person_of(request) -> Person | None:
    raw = request.headers.get(HEADER)
    if not raw:
        return None
    role, identifier, name = raw.split(":", 2)
    return Person(identifier, name, role)


def requires(role: str):
    from starlette.responses import Response

    def decorate(endpoint):
        @functools.wraps(endpoint)
        async def guarded(request):
            person = person_of(request)
            if person is None:
                return Response("connexion requise", status_code=401)
            if not person.can(role):
                return Response("rôle insuffisant", status_code=403)
            return await endpoint(request)

        return guarded

    return decorate


def csrf_token(request) -> str:
    return TOKEN


def check_csrf(request, submitted) -> bool:
    return submitted == TOKEN


def install(app, store, auth_config) -> None:
    app.state.auth_installed = (store, auth_config)


def auth_config_from_environment(env) -> None:
    return None


def installed() -> None:
    """The stand-in under the real package's name, unless the console already took its names from the real
    one. A test session may have imported the real package first (its own tests): the stand-in takes its
    place in sys.modules all the same, and the real package's users keep what they imported."""
    name = "guichet_operations.console.auth"
    if not isinstance(sys.modules.get(name), StandIn) and "guichet_operations.console.access" not in sys.modules:
        module = StandIn(name)
        names = ("Person", "person_of", "requires", "csrf_token", "check_csrf", "install")
        for attr in (*names, "auth_config_from_environment"):
            setattr(module, attr, globals()[attr])
        sys.modules[name] = module


class StandIn(types.ModuleType):
    """This module's functions under the real package's name."""


def header(role: str = "lecture", identifier: str = "u-1", name: str = "Camille Martin") -> dict[str, str]:
    return {HEADER: f"{role}:{identifier}:{name}"}
