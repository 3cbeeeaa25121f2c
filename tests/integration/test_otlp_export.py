"""`guichet run` with OTEL_EXPORTER_OTLP_ENDPOINT set sends its spans over OTLP/HTTP: here to a
receiver of the test's own that records what it is sent."""

import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from guichet.bus import Bus
from guichet.clock import SystemClock
from guichet.topology import Topology
from services.intake import filing
from services.parties import PARTIES
from tests.conftest import DIRECTORY, delete_namespace, dossier, scenario, wait_until
from tests.monitoring import free_port, http_get
from tests.services import guichet

pytestmark = pytest.mark.broker


class Receiver(BaseHTTPRequestHandler):
    posts: list[tuple[str, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802
        self.posts.append((self.path, self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_guichet_run_exports_its_spans_to_the_otlp_endpoint(amqp_url, namespace, tmp_path):
    Receiver.posts = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    port = free_port()
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.server_address[1]}",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }
    with open(tmp_path / "ofii.log", "wb") as log:
        proc = subprocess.Popen(
            guichet(
                "run",
                "ofii",
                "--broker",
                amqp_url,
                "--namespace",
                namespace,
                "--data-dir",
                str(tmp_path),
                "--http-port",
                str(port),
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_until(lambda: http_get(f"http://127.0.0.1:{port}/readyz")[0] == 200, 30, "the OFII service ready")
        bus = Bus(amqp_url, Topology(PARTIES, namespace=namespace))
        try:
            filed = scenario(dossier(id="OTLP")).dossiers[0]
            bus.publish_envelope(filing("OTLP", filed, "circulaire-2012", SystemClock().now(), DIRECTORY))
        finally:
            bus.close()
        span_name = f"process {namespace}.ofii".encode()
        wait_until(
            lambda: any(path == "/v1/traces" and span_name in body for path, body in Receiver.posts),
            30,
            "the OFII's processing span at the OTLP endpoint",
        )
    finally:
        proc.terminate()
        code = proc.wait(timeout=20)
        receiver.shutdown()
        delete_namespace(amqp_url, namespace)
    assert code == 0, (tmp_path / "ofii.log").read_text()[-2000:]
