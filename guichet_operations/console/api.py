"""The console's JSON API, /api/v1/: the same data as the pages, for scripts and other tools
(documented by /api/v1/openapi.json, guichet_operations/console/openapi.py). Same roles as the pages;
a POST needs the CSRF token in the X-CSRF-Token header."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from guichet_operations.console import board, dossier_page, dossiers, failures, queries
from guichet_operations.console.access import AGENT, LECTURE, OPERATEUR, check_csrf, requires
from guichet_operations.console.app import Console, actor, may
from guichet_operations.console.standing import standing


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def reply(data: Any, status: int = 200) -> Response:
    return JSONResponse(_plain(data), status_code=status)


def problem(status: int, detail: str) -> Response:
    return JSONResponse({"status": status, "detail": detail}, status_code=status)


def routes(c: Console) -> list[Route]:
    from guichet_operations.console.openapi import document

    def clock_of(clock) -> dict:
        return {"now": clock.now, "virtual": clock.virtual, "time_scale": clock.scale}

    @requires(LECTURE)
    async def list_dossiers(request: Request) -> Response:
        clock = await c.run(c.clock)
        try:
            query = dossiers.parse_query(request.query_params)
            found = await c.run(dossiers.page, c.store, query, clock.now)
        except dossiers.BadQuery as exc:
            return problem(400, str(exc))
        for row in found["rows"]:
            row["standing"] = standing(row, clock.now).key
        return reply({"clock": clock_of(clock)} | found)

    @requires(LECTURE)
    async def one_dossier(request: Request) -> Response:
        clock = await c.run(c.clock)
        dossier_id = request.path_params["dossier_id"]
        found = await c.run(
            dossier_page.dossier, c.store, dossier_id, c.config.directory, clock.now, may(request, AGENT)
        )
        if found is None:
            return problem(404, f"le dossier {dossier_id} n'est pas dans le magasin de supervision")
        found.pop("svg")
        found["standing"] = found["standing"].key if found["standing"] else None
        return reply({"clock": clock_of(clock)} | found)

    @requires(LECTURE)
    async def deadlines(request: Request) -> Response:
        clock = await c.run(c.clock)
        try:
            agency, params = queries.agency(request.query_params), request.query_params
            found = await c.run(board.board, c.store, clock.now, params.get("apres"), queries.size(params), agency)
        except dossiers.BadQuery as exc:
            return problem(400, str(exc))
        return reply({"clock": clock_of(clock)} | found)

    @requires(LECTURE)
    async def list_failures(request: Request) -> Response:
        params = request.query_params
        try:
            status = queries.failure_status(params)
            after = queries.number(params.get("apres"), "apres")
            found = await c.run(failures.listing, c.store, status, after, queries.size(params))
        except dossiers.BadQuery as exc:
            return problem(400, str(exc))
        counts = await c.run(failures.counts, c.store)
        return reply(found | {"counts": counts})

    @requires(LECTURE)
    async def one_failure(request: Request) -> Response:
        found = await c.run(failures.detail, c.store, request.path_params["failure_id"])
        if found is None:
            return problem(404, "aucun message en erreur sous ce numéro")
        return reply(found)

    @requires(OPERATEUR)
    async def act(request: Request) -> Response:
        action = request.path_params["action"]
        if action not in failures.MOVES:
            return problem(404, "action inconnue : replay, archive ou restore")
        if not check_csrf(request, request.headers.get("x-csrf-token")):
            return problem(403, "jeton CSRF absent ou périmé (en-tête X-CSRF-Token)")
        try:
            body = json.loads(await request.body())
            ids = [int(i) for i in body["ids"]]
        except (ValueError, KeyError, TypeError):
            return problem(400, 'corps attendu : {"ids": [1, 2, ...]}')
        clock = await c.run(c.clock)
        done = await c.run(failures.act, c.store, c.config.failure_actions, action, ids, actor(request), clock.real)
        return reply(done, 502 if done["error"] else 200)

    @requires(LECTURE)
    async def services(request: Request) -> Response:
        clock = await c.run(c.clock)
        return reply({"clock": clock_of(clock), "sources": await c.run(board.sources, c.store, clock.real)})

    @requires(LECTURE)
    async def actions(request: Request) -> Response:
        try:
            before = queries.number(request.query_params.get("avant"), "avant")
            found = await c.run(failures.journal, c.store, before, queries.size(request.query_params))
        except dossiers.BadQuery as exc:
            return problem(400, str(exc))
        return reply(found)

    @requires(LECTURE)
    async def openapi(request: Request) -> Response:
        return JSONResponse(document())

    return [
        Route("/api/v1/openapi.json", openapi),
        Route("/api/v1/dossiers", list_dossiers),
        Route("/api/v1/dossiers/{dossier_id}", one_dossier),
        Route("/api/v1/deadlines", deadlines),
        Route("/api/v1/failures", list_failures),
        Route("/api/v1/failures/{failure_id:int}", one_failure),
        Route("/api/v1/failures/{action:str}", act, methods=["POST"]),
        Route("/api/v1/services", services),
        Route("/api/v1/actions", actions),
    ]
