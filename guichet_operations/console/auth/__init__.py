"""The console's sign-in: console accounts (argon2 hashes, lockout) and the administration's OpenID
Connect federation, server-side sessions in the supervision store, roles, CSRF tokens tied to the
session, and the door every request goes through (allowed Host names, security headers).

`install(app, store, config)` is all a Starlette application calls; its endpoints then use
`requires(role)`, `person_of(request)`, `csrf_token(request)` and `check_csrf(request, submitted)`.
`auth_config_from_environment(os.environ)` reads the configuration from GUICHET_CONSOLE_* variables."""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette

from guichet_operations.console.auth.config import AuthConfig, AuthNotConfigured, OidcConfig
from guichet_operations.console.auth.environment import auth_config_from_environment
from guichet_operations.console.auth.guard import AuthDoor, check_csrf, csrf_token, person_of, requires
from guichet_operations.console.auth.oidc import OidcSignIn
from guichet_operations.console.auth.people import ROLES, Person
from guichet_operations.console.auth.sessions import Sessions
from guichet_operations.console.auth.signin import routes as sign_in_routes
from guichet_operations.supervision.store import Store

__all__ = [
    "ROLES",
    "AuthConfig",
    "AuthNotConfigured",
    "OidcConfig",
    "Person",
    "auth_config_from_environment",
    "check_csrf",
    "csrf_token",
    "install",
    "person_of",
    "requires",
]


def install(app: Starlette, store: Store, config: Any) -> None:
    """Put the sign-in routes on `app` and its door in front of everything (call it last, after the other
    middleware). Without a configuration there is no console: nobody could sign in, so nothing is served."""
    if not isinstance(config, AuthConfig):
        raise AuthNotConfigured(
            "la console ne démarre pas sans connexion : donnez-lui une AuthConfig (secret de session, noms "
            "d'hôte autorisés, et le fournisseur OpenID Connect de l'administration s'il y en a un)"
        )
    app.router.routes.extend(sign_in_routes(store))
    if config.oidc is not None:
        app.router.routes.extend(OidcSignIn(store, config.oidc).routes())
    app.add_middleware(AuthDoor, config=config, sessions=Sessions(store, config))
