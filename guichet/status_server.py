"""The one small HTTP listener of `guichet run --http-port N`: /metrics, /livez and /readyz.

- /livez: the service's loop turns (it ticks while consuming and while waiting to reconnect);
  it does not depend on the broker, so that an orchestrator does not restart a service that is
  only waiting for RabbitMQ.
- /readyz: connected, topology declared and consuming; otherwise 503 with the reason.
- /metrics: the service's own registry in Prometheus' text format.

stdlib http.server in a daemon thread: no framework in the runtime for three routes.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from guichet.configuration import ConfigurationError
from guichet.metrics import Metrics

log = structlog.get_logger("guichet.status")

LIVE_SECONDS = 30.0


class ListenerError(ConfigurationError):
    """The status listener cannot take its host and port (taken, or not this machine's)."""

    def __init__(self, host: str, port: int, reason: str):
        self.host, self.port, self.reason = host, port, reason
        super().__init__(f"status listener on {host}:{port}: cannot listen ({reason})")


class ServiceStatus:
    """Liveness and readiness of one service, and the listener that reports them with its metrics."""

    def __init__(
        self, metrics: Metrics, port: int | None = None, host: str = "127.0.0.1", live_seconds: float = LIVE_SECONDS
    ):
        self.metrics = metrics
        self.port, self.host, self.live_seconds = port, host, live_seconds
        self.reason = "starting: not connected to the broker yet"
        self.is_ready = False
        self._last_tick = time.monotonic()
        self._server: ThreadingHTTPServer | None = None

    def tick(self) -> None:
        self._last_tick = time.monotonic()

    def alive(self) -> bool:
        return time.monotonic() - self._last_tick < self.live_seconds

    def ready(self) -> None:
        self.is_ready, self.reason = True, "consuming"
        self.metrics.set_ready(True)

    def not_ready(self, reason: str) -> None:
        self.is_ready, self.reason = False, reason
        self.metrics.set_ready(False)

    def start(self) -> None:
        """Listen, when a port was given (0: any free port, read back from `self.port`)."""
        if self.port is None:
            return
        try:
            self._server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        except OSError as exc:
            raise ListenerError(self.host, self.port, exc.strerror or str(exc)) from None
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, name="guichet-status", daemon=True).start()
        log.info("status listener", agency=self.metrics.agency, host=self.host, port=self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


def _handler(status: ServiceStatus) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(status.metrics.registry), CONTENT_TYPE_LATEST)
            elif path == "/livez":
                alive = status.alive()
                self._send(200 if alive else 503, b"alive\n" if alive else b"the service loop is stuck\n")
            elif path == "/readyz":
                self._send(200 if status.is_ready else 503, f"{status.reason}\n".encode())
            else:
                self._send(404, b"not found: /metrics, /livez, /readyz\n")

        def _send(self, code: int, body: bytes, content_type: str = "text/plain; charset=utf-8") -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass  # a scrape every few seconds is not news; errors reach the service's log otherwise

    return Handler
