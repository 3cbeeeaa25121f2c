"""A tiny Starlette application behind the real sign-in (guichet_operations.console.auth): a page for
`lecture`, one for `operateur`, a form that checks the CSRF token and a JSON endpoint under /api/, with
a clock the tests move by hand."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from guichet_operations.console import auth
from guichet_operations.console.auth.accounts import AccountError, Accounts  # noqa: F401 (for the tests)
from guichet_operations.supervision.store import Store

AuthConfig, OidcConfig, AuthNotConfigured = auth.AuthConfig, auth.OidcConfig, auth.AuthNotConfigured
install = auth.install
check_csrf, csrf_token, person_of, requires = auth.check_csrf, auth.csrf_token, auth.person_of, auth.requires

SECRET = "s" * 48
PASSWORD = "un mot de passe assez long"


@dataclass
class Clock:
    now: datetime = datetime(2026, 3, 21, 8, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def config(clock: Clock, https_only: bool = False, oidc=None):
    return AuthConfig(SECRET, allowed_hosts=["testserver"], https_only=https_only, oidc=oidc, now=clock)


def tiny_app(store: Store, auth: AuthConfig) -> Starlette:
    @requires("lecture")
    async def home(request: Request) -> Response:
        person = person_of(request)
        assert person is not None
        return PlainTextResponse(f"Bonjour {person.name} ({person.role}, {person.identifier}) {csrf_token(request)}")

    @requires("operateur")
    async def act(request: Request) -> Response:
        return PlainTextResponse("fait")

    @requires("lecture")
    async def form(request: Request) -> Response:
        submitted = (await request.form()).get("csrf_token")
        return PlainTextResponse("pris" if check_csrf(request, submitted) else "refusé", 200 if submitted else 400)

    @requires("lecture")
    async def api(request: Request) -> Response:
        return JSONResponse({"ok": True})

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/agir", act),
            Route("/formulaire", form, methods=["POST"]),
            Route("/api/v1/etat", api),
        ]
    )
    install(app, store, auth)
    return app


def token_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([0-9a-f]*)"', html)
    assert found, html
    return found.group(1)
