"""The console as an ASGI application for uvicorn (`--factory guichet_operations.console.serve:app`):
the store's URL in GUICHET_CONSOLE_STORE, the sign-in's configuration in the other GUICHET_CONSOLE_*
variables (guichet_operations/console/auth/environment.py)."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from guichet_operations.console.app import ConsoleConfig, create_console
from guichet_operations.console.auth import auth_config_from_environment
from guichet_operations.supervision.store import Store


def app() -> Starlette:
    auth = auth_config_from_environment(os.environ)  # before the store: a console without sign-in never opens it
    return create_console(Store(os.environ["GUICHET_CONSOLE_STORE"]), ConsoleConfig(auth=auth))
