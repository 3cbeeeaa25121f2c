"""The console as an ASGI application for uvicorn (`--factory guichet_operations.console.serve:app`):
the store's URL in GUICHET_CONSOLE_STORE."""

from __future__ import annotations

import os

from starlette.applications import Starlette

from guichet_operations.console.app import ConsoleConfig, create_console
from guichet_operations.supervision.store import Store


def app() -> Starlette:
    return create_console(Store(os.environ["GUICHET_CONSOLE_STORE"]), ConsoleConfig())
