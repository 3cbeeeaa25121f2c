"""What the console's sign-in is given: the secret its CSRF tokens are made with, how long a session
lives, the names the console answers to, and, when the administration signs its agents in through its
OpenID Connect federation, that provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime


class AuthNotConfigured(Exception):
    """The console was started without its sign-in: it refuses to serve pages that nobody signed in to."""


def _real_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str
    # The console's public URL (https://console.example.gouv.fr): the provider sends people back to
    # <redirect_base>/connexion/oidc/retour, which must be the redirect URI registered for the client.
    redirect_base: str
    # The claim that carries the person's console role (lecture, agent, operateur, administrateur).
    role_claim: str = "guichet_role"
    scopes: str = "openid profile email"

    @property
    def redirect_uri(self) -> str:
        return self.redirect_base.rstrip("/") + "/connexion/oidc/retour"


@dataclass(frozen=True)
class AuthConfig:
    session_secret: str
    allowed_hosts: list[str]
    https_only: bool
    oidc: OidcConfig | None = None
    # A session unused this long is over; any session is over this long after sign-in, used or not.
    session_minutes: int = 30
    session_max_hours: int = 10
    lockout_failures: int = 5
    lockout_minutes: int = 15
    # The clock sessions and lockouts are measured with: tests give their own.
    now: Callable[[], datetime] = field(default=_real_now)

    def __post_init__(self) -> None:
        if len(self.session_secret) < 32:
            raise AuthNotConfigured("session_secret : au moins 32 caractères aléatoires")
        if not self.allowed_hosts:
            raise AuthNotConfigured("allowed_hosts : au moins le nom sous lequel la console est servie")
