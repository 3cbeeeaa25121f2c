"""The console's pages, in French: the dossiers, the deadline board, a dossier, the error queue (with
a confirmation page before any action), the services' audit copies, the journal of actions."""

from __future__ import annotations

from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from guichet_operations.console import board, dossier_page, dossiers, failures, queries
from guichet_operations.console.access import AGENT, LECTURE, OPERATEUR, check_csrf, requires
from guichet_operations.console.app import Console, actor, may
from guichet_operations.console.labels import ACTIONS, ACTIONS_DONE


def routes(c: Console) -> list[Route]:
    def bad(request: Request, clock, exc: dossiers.BadQuery) -> Response:
        return c.page(request, "mauvaise_requete.html", clock, 400, problem=str(exc))

    @requires(LECTURE)
    async def index(request: Request) -> Response:
        clock = await c.run(c.clock)
        try:
            query = dossiers.parse_query(request.query_params)
            found = await c.run(dossiers.page, c.store, query, clock.now)
        except dossiers.BadQuery as exc:
            return bad(request, clock, exc)
        return c.page(request, "dossiers.html", clock, query=query, found=found, choices=c.choices, urlencode=urlencode)

    @requires(LECTURE)
    async def deadlines(request: Request) -> Response:
        clock = await c.run(c.clock)
        try:
            agency, params = queries.agency(request.query_params), request.query_params
            found = await c.run(board.board, c.store, clock.now, params.get("apres"), queries.size(params), agency)
        except dossiers.BadQuery as exc:
            return bad(request, clock, exc)
        return c.page(request, "echeances.html", clock, found=found, agency=agency, refresh=c.config.refresh_seconds)

    @requires(LECTURE)
    async def dossier(request: Request) -> Response:
        clock = await c.run(c.clock)
        dossier_id = request.path_params["dossier_id"]
        found = await c.run(
            dossier_page.dossier, c.store, dossier_id, c.config.directory, clock.now, may(request, AGENT)
        )
        if found is None:
            return c.page(request, "introuvable.html", clock, 404, what=f"Le dossier {dossier_id}")
        return c.page(request, "dossier.html", clock, d=found)

    @requires(LECTURE)
    async def errors(request: Request) -> Response:
        clock = await c.run(c.clock)
        params = request.query_params
        try:
            status = queries.failure_status(params, "en_attente")
            after = queries.number(params.get("apres"), "apres")
            found = await c.run(failures.listing, c.store, status, after, queries.size(params))
        except dossiers.BadQuery as exc:
            return bad(request, clock, exc)
        counts = await c.run(failures.counts, c.store)
        return c.page(
            request, "erreurs.html", clock, found=found, counts=counts, status=status,
            notice=request.query_params.get("avis"), can_act=may(request, OPERATEUR),
        )  # fmt: skip

    @requires(LECTURE)
    async def error(request: Request) -> Response:
        clock = await c.run(c.clock)
        found = await c.run(failures.detail, c.store, request.path_params["failure_id"])
        if found is None:
            return c.page(
                request,
                "introuvable.html",
                clock,
                404,
                what=f"Le message en erreur n° {request.path_params['failure_id']}",
            )
        return c.page(request, "erreur.html", clock, f=found, can_act=may(request, OPERATEUR))

    async def _form(request: Request) -> tuple[str, list[int], bool]:
        form = await request.form()
        action = str(form.get("action") or request.path_params.get("action") or "")
        ids = [int(i) for i in form.getlist("id") if str(i).isdigit()]
        return action, ids, bool(check_csrf(request, form.get("csrf_token")))

    @requires(OPERATEUR)
    async def confirm(request: Request) -> Response:
        clock = await c.run(c.clock)
        action, ids, fresh = await _form(request)
        if not fresh:
            return Response("Formulaire périmé ou venu d'ailleurs : rechargez la page.", status_code=403)
        if action not in failures.MOVES or not ids:
            return bad(request, clock, dossiers.BadQuery("choisissez une action et au moins un message"))
        chosen = await c.run(lambda: [failures.detail(c.store, i) for i in ids[: failures.MAX_SELECTED]])
        return c.page(
            request, "confirmer.html", clock, action=action, chosen=[f for f in chosen if f], verb=ACTIONS[action]
        )

    @requires(OPERATEUR)
    async def act(request: Request) -> Response:
        clock = await c.run(c.clock)
        action, ids, fresh = await _form(request)
        if not fresh:
            return Response("Formulaire périmé ou venu d'ailleurs : rechargez la page.", status_code=403)
        if action not in failures.MOVES:
            return Response("Action inconnue.", status_code=404)
        done = await c.run(failures.act, c.store, c.config.failure_actions, action, ids, actor(request), clock.real)
        notice = (
            f"{len(done['done'])} message(s) {ACTIONS_DONE[action]}(s), {len(done['skipped'])} laissé(s) tel(s) quel(s)"
        )
        if done["error"]:
            notice += f" — échec : {done['error']}"
        return RedirectResponse("/erreurs?" + urlencode({"avis": notice}), 303)

    @requires(LECTURE)
    async def services(request: Request) -> Response:
        clock = await c.run(c.clock)
        rows = await c.run(board.sources, c.store, clock.real)
        return c.page(request, "services.html", clock, rows=rows)

    @requires(LECTURE)
    async def journal(request: Request) -> Response:
        clock = await c.run(c.clock)
        try:
            before = queries.number(request.query_params.get("avant"), "avant")
            found = await c.run(failures.journal, c.store, before, queries.size(request.query_params))
        except dossiers.BadQuery as exc:
            return bad(request, clock, exc)
        return c.page(request, "journal.html", clock, found=found)

    return [
        Route("/", index),
        Route("/echeances", deadlines),
        Route("/dossiers/{dossier_id}", dossier),
        Route("/erreurs", errors),
        Route("/erreurs/{failure_id:int}", error),
        Route("/erreurs/confirmer", confirm, methods=["POST"]),
        Route("/erreurs/{action:str}", act, methods=["POST"]),
        Route("/services", services),
        Route("/journal", journal),
    ]
