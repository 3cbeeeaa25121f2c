"""The RabbitMQ management HTTP API, as an administrator, with the standard library only: what
`guichet broker setup|verify` and the error queue's archive go through."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from urllib.parse import quote, unquote, urlsplit


class BrokerAdminError(Exception):
    """The management API refused a request (bad credentials, not an administrator...)."""


def management_url(amqp_url: str) -> str:
    """The administrator's management API, on the AMQP URL's host with its credentials."""
    u = urlsplit(amqp_url)
    scheme, port = ("https", 15671) if u.scheme == "amqps" else ("http", 15672)
    return f"{scheme}://{u.username or 'guest'}:{u.password or 'guest'}@{u.hostname or '127.0.0.1'}:{port}/"


class Management:
    """The management HTTP API as an administrator: get (None when 404), put, delete."""

    def __init__(self, url: str):
        u = urlsplit(url)
        self.username = unquote(u.username or "guest")
        token = base64.b64encode(f"{self.username}:{unquote(u.password or 'guest')}".encode()).decode()
        self._auth, self.base = f"Basic {token}", f"{u.scheme}://{u.hostname}:{u.port or 15672}{u.path.rstrip('/')}/api"

    def request(self, method: str, segments, body=None, query: str = ""):
        path = "/" + "/".join(quote(s, safe="") for s in segments) + query
        req = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            method=method,
            headers={"Authorization": self._auth, "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=15) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and method == "GET":
                return None
            detail = exc.read()[:300].decode(errors="replace")
            raise BrokerAdminError(f"{method} {path}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, OSError) as exc:  # refused, timed out: the plugin may be off
            raise ConnectionError(
                f"management API {self.base} unreachable ({getattr(exc, 'reason', exc)}); "
                "enable it with: rabbitmq-plugins enable rabbitmq_management"
            ) from None
        return json.loads(raw) if raw else None

    def get(self, *segments: str, query: str = ""):
        return self.request("GET", segments, query=query)

    def put(self, body, *segments: str):
        return self.request("PUT", segments, body)

    def delete(self, *segments: str):
        return self.request("DELETE", segments)
