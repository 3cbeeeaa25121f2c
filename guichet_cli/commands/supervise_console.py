"""The console's part of `guichet supervise`: who may sign in and how (the options below), and the
ASGI application that serves the console beside the service's status routes."""

from __future__ import annotations

import argparse
import os
import secrets
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from guichet_cli.commands.common import UsageError

SECRET_VARIABLE = "GUICHET_CONSOLE_SECRET"  # the same names as console/auth/environment.py
OIDC_SECRET_VARIABLE = "GUICHET_CONSOLE_OIDC_CLIENT_SECRET"


def add_console_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("console sign-in (docs/console-access.md)")
    g.add_argument(
        "--public-url",
        metavar="URL",
        help="the console's address as people's browsers reach it (default: http://HOST:PORT/); an https:// "
        "address makes cookies Secure and adds HSTS; its host is the one Host header accepted",
    )
    g.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="another Host header the console answers (repeatable); any other gets 400",
    )
    g.add_argument(
        "--session-secret-file",
        metavar="FILE",
        help=f"the key signing CSRF tokens (default: ${SECRET_VARIABLE}, else a random key: sessions then end "
        "when the process restarts)",
    )
    g.add_argument("--session-minutes", type=int, default=30, metavar="M", help="idle time before a session ends")
    g.add_argument("--session-max-hours", type=int, default=10, metavar="H", help="a session's longest life")
    g.add_argument("--oidc-issuer", metavar="URL", help="the OpenID Connect provider agents sign in with")
    g.add_argument("--oidc-client-id", metavar="ID", help="the console's client id at the provider")
    g.add_argument(
        "--oidc-client-secret-file",
        metavar="FILE",
        help=f"the console's client secret (default: ${OIDC_SECRET_VARIABLE})",
    )
    g.add_argument(
        "--oidc-role-claim",
        default="guichet_role",
        metavar="CLAIM",
        help="the ID token claim giving the person's role: lecture, agent, operateur or administrateur",
    )


def _secret(path: str | None, variable: str, option: str) -> str | None:
    if path:
        try:
            text = Path(path).read_text().strip()
        except OSError as exc:
            raise UsageError(f"{option}: {path}: {exc.strerror or exc}") from None
        if not text:
            raise UsageError(f"{option}: {path} is empty")
        return text
    return os.environ.get(variable) or None


def auth_config_from(args: argparse.Namespace) -> Any:
    from guichet_operations.console.auth import AuthConfig, OidcConfig

    if not args.public_url and args.host in ("0.0.0.0", "::", ""):
        raise UsageError("--public-url: needed when listening on every interface (the name browsers use)")
    public = args.public_url or f"http://{args.host}:{args.port}/"
    parts = urlsplit(public)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--public-url: {public!r} is not an http:// or https:// address")
    secret = _secret(args.session_secret_file, SECRET_VARIABLE, "--session-secret-file")
    if secret is None:
        secret = secrets.token_hex(32)
        print("guichet supervise: no session secret given: sessions end when this process stops", file=sys.stderr)
    oidc = None
    if args.oidc_issuer or args.oidc_client_id:
        client_secret = _secret(args.oidc_client_secret_file, OIDC_SECRET_VARIABLE, "--oidc-client-secret-file")
        missing = [name for name, value in (("--oidc-issuer", args.oidc_issuer), ("--oidc-client-id",
                   args.oidc_client_id), ("--oidc-client-secret-file", client_secret)) if not value]  # fmt: skip
        if missing:
            raise UsageError(f"OpenID Connect sign-in needs {', '.join(missing)} too")
        oidc = OidcConfig(
            issuer=args.oidc_issuer,
            client_id=args.oidc_client_id,
            client_secret=client_secret,
            redirect_base=public,
            role_claim=args.oidc_role_claim,
        )
    hosts = [parts.hostname, *args.allowed_host]
    return AuthConfig(
        session_secret=secret,
        session_minutes=args.session_minutes,
        session_max_hours=args.session_max_hours,
        allowed_hosts=list(dict.fromkeys(hosts)),
        https_only=parts.scheme == "https",
        oidc=oidc,
    )


def supervision_app(supervisor: Any, store: Any, console_config: Any) -> Any:
    """The status routes (/metrics, /livez, /readyz: for Prometheus and the orchestrator, no sign-in)
    and everything else to the console, behind its sign-in."""
    from starlette.applications import Starlette
    from starlette.routing import Mount

    from guichet_operations.console.app import create_console
    from guichet_operations.supervision.status import status_routes

    return Starlette(routes=[*status_routes(supervisor), Mount("/", app=create_console(store, console_config))])
