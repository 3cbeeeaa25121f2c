"""The OpenAPI 3.1 document of /api/v1/ (also in docs/console-api.json, kept equal by a test)."""

from __future__ import annotations

from typing import Any


def document() -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "guichet supervision", "version": "1"}, "paths": {}}
