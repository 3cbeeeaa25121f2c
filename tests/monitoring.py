"""Helpers of the monitoring tests: free ports, the services' HTTP endpoints, their metrics and the
registers' journals they are checked against."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from guichet.register_reader import RegisterReader


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    """Status and body; (0, why) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, OSError) as exc:
        return 0, str(exc)


def samples(port: int) -> dict[tuple[str, frozenset], float]:
    """The /metrics of a service, by (sample name, labels)."""
    code, text = http_get(f"http://127.0.0.1:{port}/metrics")
    assert code == 200, text
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(found: dict, name: str, **labels: str) -> float:
    """The sum of a metric's samples whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in found.items() if n == name and wanted <= ls)


def handled_in_journal(agency: str, data_dir) -> int:
    """How many messages the agency handled: its journal records each one once, as `in`."""
    with RegisterReader(agency, data_dir) as reader:
        return reader.rows("SELECT COUNT(*) AS n FROM journal WHERE direction = 'in'")[0]["n"]


class Prometheus:
    """A Prometheus process of the test's own (never the Debian service), on a free port with its
    data in a temporary folder, stopped by its PID."""

    def __init__(self, config: Path, workdir: Path):
        if shutil.which("prometheus") is None:
            pytest.fail("prometheus is missing: scripts/setup-monitoring installs it (Debian package prometheus)")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "prometheus.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    "prometheus",
                    f"--config.file={config}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    f"--storage.tsdb.path={workdir / 'tsdb'}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"prometheus exited with {self.process.returncode}: {self.log.read_text()[-2000:]}")
            if http_get(f"{self.url}/-/ready")[0] == 200:
                return
            time.sleep(0.2)
        pytest.fail(f"prometheus not ready after {seconds:.0f} s: {self.log.read_text()[-2000:]}")

    def api(self, path: str, **params: str) -> dict | list:
        code, body = http_get(f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}")
        reply = json.loads(body) if body.startswith("{") else {"status": "error", "error": body}
        assert code == 200 and reply["status"] == "success", (path, params, body)
        return reply["data"]

    def value(self, query: str) -> float | None:
        """An instant query's single value; None when it has no result."""
        result = self.api("query", query=query)["result"]
        return float(result[0]["value"][1]) if result else None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
