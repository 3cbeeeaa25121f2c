"""The supervision service's own status routes, beside the console's pages: /metrics (its registry:
what it took, what it refused, the lag per agency), /livez and /readyz (consuming from the broker)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from guichet_operations.supervision.service import Supervisor


def status_routes(supervisor: Supervisor) -> list[Route]:
    def metrics(request: Request) -> Response:
        return Response(generate_latest(supervisor.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    def livez(request: Request) -> Response:
        return PlainTextResponse("vivant\n")

    def readyz(request: Request) -> Response:
        if supervisor.consuming.is_set():
            return PlainTextResponse("prêt : la supervision consomme ses files\n")
        return PlainTextResponse(
            "pas prêt : la supervision ne consomme pas (courtier injoignable ?)\n", status_code=503
        )

    return [Route("/metrics", metrics), Route("/livez", livez), Route("/readyz", readyz)]
