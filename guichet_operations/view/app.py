"""The operations view: a small server-rendered web application (starlette, jinja2), nothing loaded
from elsewhere. It reads the registers and the error queue; it changes something only when the
operator asks (replay, archive, restore), through the operator's broker account, and logs it (view/actions.py)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from guichet.bus import Bus
from guichet.clock import Clock, SystemClock
from guichet.settings import TLSSettings
from guichet.timeutil import paris
from guichet.topology import Topology
from guichet_operations.error_queue import Selection
from guichet_operations.view import error_actions
from guichet_operations.view.actions import ActionLog
from guichet_operations.view.readiness import readiness
from guichet_operations.view.registers import Registers, deadline_rows, dossier_rows, select
from guichet_operations.view.sequence import drawn, sequence_svg
from schemas.base import AGENCIES
from services.directory import Directory
from services.parties import PARTIES
from services.summary import summary as french_summary

HERE = Path(__file__).parent
DEFAULT_LIMIT = 10


@dataclass
class OpsConfig:
    registers: Registers
    actions: ActionLog
    broker_url: str | None = None
    account: str = "guest"
    namespace: str = "guichet"
    clock: Clock = field(default_factory=SystemClock)
    services: dict[str, str] = field(default_factory=dict)
    # For an amqps:// broker: the CA, client certificate and name the command line gives.
    tls: TLSSettings = field(default_factory=TLSSettings)
    # The directory of services the summaries name the services from.
    directory: Directory = field(default_factory=Directory.shipped)
    # Forms carry this token: a page of another site cannot make the operator's browser act.
    token: str = field(default_factory=lambda: secrets.token_urlsafe(16))


def when(moment: datetime | str | None) -> str:
    if moment is None:
        return "—"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return paris(moment).strftime("%d/%m/%Y %H:%M")


def duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    seconds = abs(int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    text = f"{days} d {rest // 3600} h" if days else f"{rest // 3600} h {rest % 3600 // 60} min"
    return f"{text} over" if delta < timedelta(0) else f"{text} left"


def create_app(config: OpsConfig) -> Starlette:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters.update(when=when, duration=duration)
    templates.env.globals.update(agencies=AGENCIES, token=config.token)

    def page(request: Request, name: str, status: int = 200, **context) -> Response:
        return templates.TemplateResponse(request, name, {"now": config.clock.now(), **context}, status_code=status)

    def index(request: Request) -> Response:
        now = config.clock.now()
        rows = dossier_rows(config.registers.dossier_states(), config.registers.open_tasks(), now, config.directory)
        q = request.query_params
        chosen = select(rows, q.get("state"), q.get("agency"), q.get("step"))
        steps = sorted({r["step"] for r in rows if r["step"]})
        return page(request, "index.html", rows=chosen, total=len(rows), steps=steps, q=q)

    def deadlines(request: Request) -> Response:
        now = config.clock.now()
        states = config.registers.dossier_states()
        alerts = sorted(
            ((dossier_id, alert) for dossier_id, state in states.items() for alert in state.get("alerts", [])),
            key=lambda a: a[1]["at"],
            reverse=True,
        )
        return page(request, "deadlines.html", rows=deadline_rows(config.registers.open_tasks(), now), alerts=alerts)

    def dossier(request: Request) -> Response:
        dossier_id = request.path_params["dossier_id"]
        state = config.registers.dossier_state(dossier_id)
        timeline = config.registers.journal(dossier_id)
        if state is None and not timeline:
            return page(request, "missing.html", 404, dossier_id=dossier_id)
        rows = (
            dossier_rows(
                {dossier_id: state},
                [t for t in config.registers.open_tasks() if t["dossier_id"] == dossier_id],
                config.clock.now(),
                config.directory,
            )
            if state
            else []
        )
        view = rows[0]["view"] if rows else None
        alerts = [
            {**a, "at": datetime.fromisoformat(a["at"]), "deadline": datetime.fromisoformat(a["deadline"])}
            for a in (view["deadline_alerts"] if view else [])
        ]
        types = {m["message_id"]: m["type"] for m in timeline}
        # What an OFII agent reads: the same French summary as `guichet dossier show`.
        summary = "\n".join(french_summary(view, config.directory)) if view else None
        return page(
            request,
            "dossier.html",
            dossier_id=dossier_id,
            row=rows[0] if rows else None,
            view=view,
            timeline=timeline,
            types=types,
            svg=sequence_svg(timeline, alerts),
            arrows=len(drawn(timeline)),
            summary=summary,
        )

    def bus() -> Bus:
        b = Bus(config.broker_url, Topology(PARTIES, namespace=config.namespace), tls=config.tls)
        b.declare()
        return b

    def errors(request: Request) -> Response:
        context = {
            "notice": request.query_params.get("notice"),
            "limit": DEFAULT_LIMIT,
            "actions": config.actions.last(),
            "broker": config.broker_url is not None,
        }
        if config.broker_url is None:
            return page(
                request,
                "errors.html",
                groups={},
                archive=[],
                problem=(
                    "No broker given: the error queue lives on RabbitMQ. Start the view with "
                    "`guichet ops --broker amqp://... --credentials FILE` to see it and act on it."
                ),
                **context,
            )
        try:
            b = bus()
            try:
                groups = error_actions.grouped(error_actions.listing(b))
                archive = [error_actions.view(e) for e in error_actions.archived(b)]
            finally:
                b.close()
        except Exception as exc:  # the broker is down or refuses the account: say so, do not crash
            return page(
                request,
                "errors.html",
                503,
                groups={},
                archive=[],
                problem=f"Cannot read the error queue on the broker: {type(exc).__name__}: {exc}",
                **context,
            )
        return page(request, "errors.html", groups=groups, archive=archive, problem=None, **context)

    async def act(request: Request) -> Response:
        action = request.path_params["action"]
        if action not in ("replay", "archive", "restore"):
            return Response("no such action", status_code=404)
        form = await request.form()
        if form.get("token") != config.token:
            return Response("stale or foreign form: reload the page", status_code=403)
        if config.broker_url is None:
            return RedirectResponse("/errors?" + urlencode({"notice": "No broker given: nothing done."}), 303)
        try:
            limit = max(1, min(int(form.get("limit") or DEFAULT_LIMIT), 1000))
        except ValueError:
            return RedirectResponse("/errors?" + urlencode({"notice": "limit: give a whole number"}), 303)
        ids = [i for i in form.getlist("id") if i]
        group = form.get("group") or None
        done, outcome = await run_in_threadpool(_act, action, ids, group, limit)
        config.actions.record(
            config.account, action, {"ids": ids, "group": group, "limit": limit}, [e.id for e in done], outcome
        )
        return RedirectResponse("/errors?" + urlencode({"notice": outcome}), 303)

    def _act(action: str, ids: list[str], group: str | None, limit: int):
        b = bus()
        try:
            if action == "replay":
                done = error_actions.replay(b, Selection(ids=ids, group=group), limit)
                where = sorted({e.queue or "?" for e in done})
                return done, f"replayed {len(done)} message(s) to {', '.join(where) or 'their queues'}"
            if action == "archive":
                done = error_actions.archive(b, Selection(ids=ids, group=group), limit)
                return done, f"archived {len(done)} message(s) to {config.namespace}.erreurs.archive"
            done = error_actions.restore(b, ids, limit)
            return done, f"restored {len(done)} message(s) to the error queue"
        except Exception as exc:
            return [], f"{action} failed: {type(exc).__name__}: {exc}"
        finally:
            b.close()

    def services(request: Request) -> Response:
        return page(
            request,
            "services.html",
            rows=readiness(config.registers.data_dir, config.services),
            data_dir=config.registers.data_dir,
        )

    return Starlette(
        routes=[
            Route("/", index),
            Route("/deadlines", deadlines),
            Route("/dossiers/{dossier_id}", dossier),
            Route("/errors", errors),
            Route("/errors/{action:str}", act, methods=["POST"]),
            Route("/services", services),
            Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
        ]
    )
