"""Signing in with a console account (GET and POST /connexion) and signing out (POST /deconnexion).
The form is CSRF-protected by a session begun before sign-in; a successful sign-in ends that session
and begins another, so that an id seen before sign-in is worth nothing after it."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from guichet_operations.console.auth import journal as j
from guichet_operations.console.auth.accounts import Accounts
from guichet_operations.console.auth.guard import RequestAuth, check_csrf, cookie_name, csrf_token, request_auth
from guichet_operations.console.auth.people import Person
from guichet_operations.supervision.store import Store

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
WRONG = "Identifiant ou mot de passe incorrect."
MESSAGES = {
    "inconnu_ou_mot_de_passe": WRONG,
    "verrouille": "Trop d'essais manqués : ce compte est verrouillé pour un moment. Réessayez plus tard.",
    "desactive": "Ce compte est désactivé : adressez-vous à l'administrateur de la console.",
}
STALE = "Formulaire périmé ou venu d'ailleurs : rechargez la page et recommencez."


def local_path(suite: object) -> str:
    """Where to go after sign-in: a path of this console only (no scheme, no host, no `//`)."""
    if not isinstance(suite, str) or not suite.startswith("/") or suite.startswith("//") or "\\" in suite:
        return "/"
    parts = urlsplit(suite)
    if parts.scheme or parts.netloc or any(ord(c) < 32 for c in suite):
        return "/"
    return suite


def auth_of(request: Request) -> RequestAuth:
    found = request_auth(request)
    if found is None:  # install() puts the door before the routes: this is a wiring error
        raise RuntimeError("the sign-in routes run without the AuthDoor middleware")
    return found


async def start_session(
    request: Request, person: Person | None, response: Response, pending: dict[str, Any] | None = None
) -> None:
    """End the request's session, if any, begin a new one and give its id to the browser."""
    auth = auth_of(request)
    if auth.session is not None:
        await run_in_threadpool(auth.sessions.end, auth.session.id)
    auth.session = await run_in_threadpool(auth.sessions.begin, person, pending)
    response.set_cookie(
        cookie_name(auth.config),
        auth.session.id,
        max_age=auth.config.session_max_hours * 3600,
        path="/",
        secure=auth.config.https_only,
        httponly=True,
        samesite="lax",
    )


def form_page(
    request: Request, suite: str, problem: str | None = None, code: int = 200, identifier: str = ""
) -> Response:
    auth = auth_of(request)
    return TEMPLATES.TemplateResponse(
        request,
        "connexion.html",
        {
            "token": csrf_token(request),
            "suite": suite,
            "suite_query": urlencode({"suite": suite}),
            "problem": problem,
            "identifier": identifier,
            "oidc": auth.config.oidc is not None,
        },
        status_code=code,
    )


async def form_with_session(
    request: Request, suite: str, problem: str | None = None, code: int = 200, identifier: str = ""
) -> Response:
    """The sign-in form; its CSRF token needs a session, so one for nobody yet is begun if there is none
    (it is replaced at sign-in)."""
    placeholder = Response()
    if auth_of(request).session is None:
        await start_session(request, None, placeholder)
    page = form_page(request, suite, problem, code, identifier)
    page.raw_headers += [h for h in placeholder.raw_headers if h[0] == b"set-cookie"]
    return page


def refusal_page(request: Request, problem: str, code: int = 403) -> Response:
    return TEMPLATES.TemplateResponse(request, "refus.html", {"problem": problem}, status_code=code)


def routes(store: Store) -> list[Route]:
    async def show_form(request: Request) -> Response:
        auth = auth_of(request)
        suite = local_path(request.query_params.get("suite"))
        if auth.session is not None and auth.session.person is not None:
            return RedirectResponse(suite, status_code=303)
        return await form_with_session(request, suite)

    async def sign_in(request: Request) -> Response:
        auth = auth_of(request)
        form = await request.form()
        suite = local_path(form.get("suite"))
        identifier = str(form.get("identifiant") or "").strip()
        if not check_csrf(request, form.get("csrf_token")):
            return await form_with_session(request, suite, STALE, 403)
        accounts = Accounts(store, auth.config.lockout_failures, auth.config.lockout_minutes)
        now = auth.config.now()
        verdict = await run_in_threadpool(accounts.verify, identifier, str(form.get("mot_de_passe") or ""), now)
        if verdict.person is None:
            await run_in_threadpool(
                j.journal, store, now, j.SIGN_IN_FAILED, identifier, identifier, None, via="mot_de_passe",
                reason=verdict.reason,
            )  # fmt: skip
            if verdict.locked_now:
                minutes = auth.config.lockout_minutes
                await run_in_threadpool(j.journal, store, now, j.LOCKED, identifier, identifier, None, minutes=minutes)
            return await form_with_session(request, suite, MESSAGES[verdict.reason or ""], 401, identifier)
        person = verdict.person
        await run_in_threadpool(j.journal, store, now, j.SIGN_IN, person.identifier, person.name, person.role,
                                via=person.via)  # fmt: skip
        response = RedirectResponse(suite, status_code=303)
        await start_session(request, person, response)
        return response

    async def sign_out(request: Request) -> Response:
        auth = auth_of(request)
        form = await request.form()
        if not check_csrf(request, form.get("csrf_token")):
            return refusal_page(request, STALE)
        response = RedirectResponse("/connexion", status_code=303)
        if auth.session is not None:
            person = auth.session.person
            await run_in_threadpool(auth.sessions.end, auth.session.id)
            if person is not None:
                await run_in_threadpool(j.journal, store, auth.config.now(), j.SIGN_OUT, person.identifier,
                                        person.name, person.role, via=person.via)  # fmt: skip
        response.delete_cookie(cookie_name(auth.config), path="/", secure=auth.config.https_only, httponly=True,
                               samesite="lax")  # fmt: skip
        return response

    return [
        Route("/connexion", show_form, methods=["GET"]),
        Route("/connexion", sign_in, methods=["POST"]),
        Route("/deconnexion", sign_out, methods=["POST"]),
    ]
