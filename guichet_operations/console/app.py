"""The supervision console (`create_console`): server-rendered pages in French and a JSON API under
/api/v1/, both reading only the supervision store; nothing loaded from elsewhere, no inline script
(the pages' one script, the board's refresh, is a static file), a strict Content-Security-Policy.

Every page needs a person signed in with at least the role `lecture`; personal data needs `agent`;
acting on the error queue needs `operateur`, and each action is journaled under the person's name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from guichet_operations.console import access, dossiers, labels
from guichet_operations.console.clock import BusClock, bus_clock
from guichet_operations.console.failures import Actor, FailureActions, StoreOnly
from guichet_operations.console.standing import standing
from guichet_operations.supervision.store import Store
from schemas.base import AGENCIES
from services.directory import Directory

HERE = Path(__file__).parent
CSP = "default-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"


def _real_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ConsoleConfig:
    # Replay needs the broker: whoever runs the console with one gives its actions here.
    failure_actions: FailureActions = field(default_factory=StoreOnly)
    # Given as is to the sign-in package's install().
    auth: Any = None
    directory: Directory = field(default_factory=Directory.shipped)
    real_now: Callable[[], datetime] = _real_now
    # How often the deadline board reloads itself, in seconds.
    refresh_seconds: int = 60


class Console:
    """What every endpoint shares: the store, the configuration, the templates."""

    def __init__(self, store: Store, config: ConsoleConfig):
        self.store, self.config = store, config
        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.filters.update(labels.FILTERS)
        self.templates.env.globals.update(agencies=AGENCIES, csrf_token=access.csrf_token)
        self.choices = dossiers.choices(config.directory)

    def clock(self) -> BusClock:
        return bus_clock(self.store, self.config.real_now)

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await run_in_threadpool(fn, *args)

    def page(self, request: Request, name: str, clock: BusClock, code: int = 200, **context: Any) -> Response:
        person = access.person_of(request)
        return self.templates.TemplateResponse(
            request,
            name,
            {"clock": clock, "person": person, "standing": lambda row: standing(row, clock.now), **context},
            status_code=code,
        )


def actor(request: Request) -> Actor:
    person = access.person_of(request)
    if person is None:  # requires() let no one in without a person: this is a wiring error
        raise RuntimeError("no person signed in")
    return Actor(person.identifier, person.name, person.role)


def may(request: Request, role: str) -> bool:
    person = access.person_of(request)
    return person is not None and person.can(role)


def create_console(store: Store, config: ConsoleConfig | None = None) -> Starlette:
    from guichet_operations.console import api, pages

    console = Console(store, config or ConsoleConfig())
    app = Starlette(
        routes=pages.routes(console)
        + api.routes(console)
        + [Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    )

    app.add_middleware(SecurityHeaders)
    access.install(app, store, console.config.auth)
    return app


class SecurityHeaders:
    """The strict policy on every response (a header the sign-in package set first is kept)."""

    HEADERS = {
        b"content-security-policy": CSP.encode(),
        b"x-content-type-options": b"nosniff",
        b"referrer-policy": b"same-origin",
    }

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.HEADERS.items() if k not in present]
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)
