"""The door of every request: a Host the console was not configured for gets a 400 and nothing else;
the session cookie is looked up in the store; the security headers are added; `requires(role)` lets an
endpoint's request in only with a person of that role, and the CSRF token is tied to the session."""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response

from guichet_operations.console.auth.config import AuthConfig
from guichet_operations.console.auth.people import Person, rank
from guichet_operations.console.auth.sessions import Session, Sessions

SCOPE_KEY = "guichet.auth"
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass
class RequestAuth:
    """What the door found, kept in the request's scope for the endpoints."""

    config: AuthConfig
    sessions: Sessions
    session: Session | None


def cookie_name(config: AuthConfig) -> str:
    # __Host-: the browser keeps it only if Secure, for the whole site and this host alone.
    return "__Host-guichet_session" if config.https_only else "guichet_session"


def request_auth(conn: HTTPConnection) -> RequestAuth | None:
    found = conn.scope.get(SCOPE_KEY)
    return found if isinstance(found, RequestAuth) else None


def person_of(request: HTTPConnection) -> Person | None:
    found = request_auth(request)
    return found.session.person if found and found.session else None


def csrf_token(request: HTTPConnection) -> str:
    """HMAC-SHA256 of the session id under the secret: valid for this session only, and worthless once
    the session is over. No session, no token (and no form will be taken)."""
    found = request_auth(request)
    if found is None or found.session is None:
        return ""
    return hmac.new(found.config.session_secret.encode(), found.session.id.encode(), hashlib.sha256).hexdigest()


def check_csrf(request: HTTPConnection, submitted: Any) -> bool:
    expected = csrf_token(request)
    return bool(expected) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


def is_api(path: str) -> bool:
    return path.startswith("/api/")


def requires(role: str) -> Callable[[Endpoint], Endpoint]:
    rank(role)  # a misspelt role fails when the module loads, not when someone is refused

    def decorate(endpoint: Endpoint) -> Endpoint:
        @functools.wraps(endpoint)
        async def guarded(request: Request) -> Response:
            person = person_of(request)
            api = is_api(request.url.path)
            if person is None:
                if api:
                    return JSONResponse({"status": 401, "detail": "connexion requise"}, status_code=401)
                here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
                # Back to the page after sign-in; a form posted without a session cannot be posted again.
                suite = here if request.method in ("GET", "HEAD") else "/"
                return RedirectResponse("/connexion?" + urlencode({"suite": suite}), status_code=303)
            if not person.can(role):
                detail = f"rôle {role} requis (le vôtre : {person.role})"
                if api:
                    return JSONResponse({"status": 403, "detail": detail}, status_code=403)
                return PlainTextResponse(f"Accès refusé : {detail}.", status_code=403)
            return await endpoint(request)

        return guarded

    return decorate


class AuthDoor:
    """ASGI middleware, outermost: installed after every other, it sees each request first."""

    def __init__(self, app: Any, config: AuthConfig, sessions: Sessions):
        self.app, self.config, self.sessions = app, config, sessions
        self.hosts = {_without_port(h.strip().lower()) for h in config.allowed_hosts}
        self.cookie = cookie_name(config)
        headers = [(b"x-frame-options", b"DENY")]
        if config.https_only:
            headers.append((b"strict-transport-security", b"max-age=63072000; includeSubDomains"))
        self.headers = headers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":  # the console has none: refused before any route sees it
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        host = headers.get("host", "").lower()
        if _without_port(host) not in self.hosts:
            # A foreign Host gets no page: a page with a token on it could be read through DNS rebinding.
            await PlainTextResponse("Hôte non autorisé.", status_code=400)(scope, receive, send)
            return
        session_id = _cookie(headers, self.cookie)
        session = await run_in_threadpool(self.sessions.find, session_id) if session_id else None
        scope[SCOPE_KEY] = RequestAuth(self.config, self.sessions, session)
        static = scope.get("path", "").startswith("/static/")

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                # Pages show dossiers and tokens: no cache, shared or private, keeps them.
                if not static and b"cache-control" not in present:
                    extra.append((b"cache-control", b"no-store"))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _without_port(host: str) -> str:
    if host.startswith("["):  # [::1]:8091
        return host.split("]")[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def _cookie(headers: Headers, name: str) -> str | None:
    for part in headers.get("cookie", "").split(";"):
        key, _, value = part.strip().partition("=")
        if key == name and value:
            return value
    return None
