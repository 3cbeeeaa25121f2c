"""Agency services as separate OS processes on RabbitMQ, for end-to-end and interoperability tests."""
from __future__ import annotations

import signal
import subprocess
import sys
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

from schemas.base import AGENCIES
from tests.conftest import delete_namespace, wait_until


def guichet(*args: str) -> list[str]:
    return [sys.executable, "-m", "guichet_tools", "--log-level", "warning", *args]


@contextmanager
def running_services(amqp_url: str, namespace: str, workdir: Path, time_scale: float,
                     agencies=AGENCIES, extra: dict[str, list[str]] | None = None):
    """Start the agencies with one shared compressed clock; yield the options a `submit` needs.
    On exit every service gets SIGTERM and must stop by itself; the namespace is deleted."""
    data = workdir / "data"
    clock = ["--time-scale", str(time_scale), "--clock-origin", datetime.now(timezone.utc).isoformat()]
    bus = ["--broker", amqp_url, "--namespace", namespace]
    logs = {a: open(workdir / f"{a}.log", "w") for a in agencies}
    procs = {a: subprocess.Popen(guichet("run", a, *bus, "--data-dir", str(data), *clock, *(extra or {}).get(a, [])),
                                 stdout=logs[a], stderr=subprocess.STDOUT) for a in agencies}
    stopped: dict[str, int] = {}
    try:
        wait_until(lambda: all(subprocess.run(guichet("health", a, "--data-dir", str(data)),
                                              capture_output=True).returncode == 0 for a in agencies),
                   30, "the services' heartbeats")
        yield {"bus": bus, "clock": clock, "data": data, "procs": procs, "stopped": stopped}
    finally:
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        stopped.update({a: proc.wait(timeout=20) for a, proc in procs.items()})
        for f in logs.values():
            f.close()
        delete_namespace(amqp_url, namespace)
