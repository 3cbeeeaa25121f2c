"""Agency services as separate OS processes on RabbitMQ, for end-to-end and interoperability tests,
started by the tools' own launcher (guichet_simulation/launcher.py)."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from guichet_simulation.launcher import ServiceProcesses, guichet_command
from schemas.base import AGENCIES
from tests.conftest import delete_namespace


def guichet(*args: str) -> list[str]:
    return guichet_command("--log-level", "warning", *args)


@contextmanager
def running_services(
    amqp_url: str,
    namespace: str,
    workdir: Path,
    time_scale: float,
    agencies=AGENCIES,
    extra: dict[str, list[str]] | None = None,
):
    """Start the agencies with one shared compressed clock; yield the options a `submit` needs.
    On exit every service gets SIGTERM and must stop by itself; the namespace is deleted."""
    origin = datetime.now(UTC)
    services = ServiceProcesses(
        amqp_url,
        namespace,
        workdir / "data",
        time_scale,
        origin,
        agencies=tuple(agencies),
        agency_options=extra or {},
        log_dir=workdir,
    )
    stopped: dict[str, int] = {}
    try:
        services.start_all()
        yield {
            "bus": ["--broker", amqp_url, "--namespace", namespace],
            "clock": ["--time-scale", repr(float(time_scale)), "--clock-origin", origin.isoformat()],
            "data": services.data_dir,
            "procs": services.processes,
            "stopped": stopped,
            "services": services,
        }
    finally:
        stopped.update(services.stop_all(seconds=20))
        delete_namespace(amqp_url, namespace)
