"""Who is signed in, and what a role allows. Each role includes the ones before it: lecture (no
personal data) < agent (a dossier's personal data) < operateur (acts on the error queue) <
administrateur."""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("lecture", "agent", "operateur", "administrateur")
# How a person signed in: with a console account, or through the administration's OIDC federation.
PASSWORD, OIDC = "mot_de_passe", "oidc"


class UnknownRole(ValueError):
    pass


def rank(role: str) -> int:
    try:
        return ROLES.index(role)
    except ValueError:
        raise UnknownRole(f"rôle {role!r} inconnu : {', '.join(ROLES)}") from None


@dataclass(frozen=True)
class Person:
    identifier: str
    name: str
    role: str
    via: str = PASSWORD

    def can(self, role: str) -> bool:
        return rank(self.role) >= rank(role)
