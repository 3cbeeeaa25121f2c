"""Asking a running service whether it is ready: the client side of its /readyz
(`guichet/status_server.py`), used by `guichet run --check` and by whatever starts services and
waits for them (the launcher of the simulation kit)."""

from __future__ import annotations

import urllib.error
import urllib.request


def readiness(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """The service's /readyz: 200 when consuming, 503 with the reason otherwise."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return True, response.read().decode().strip()
    except urllib.error.HTTPError as exc:
        return False, exc.read().decode().strip() or f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        return False, f"{url} unreachable: {getattr(exc, 'reason', exc)}"
