"""Who may see and do what: the console's one door to its sign-in package (guichet_operations.console.auth),
so that the pages name roles and never how people sign in.

Roles, each including the ones before it: lecture < agent (personal data) < operateur (acts on the
error queue) < administrateur."""

from __future__ import annotations

from guichet_operations.console.auth import check_csrf, csrf_token, install, person_of, requires

LECTURE, AGENT, OPERATEUR, ADMINISTRATEUR = "lecture", "agent", "operateur", "administrateur"

__all__ = [
    "ADMINISTRATEUR",
    "AGENT",
    "LECTURE",
    "OPERATEUR",
    "check_csrf",
    "csrf_token",
    "install",
    "person_of",
    "requires",
]
