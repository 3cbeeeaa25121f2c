"""Agency services as OS processes on one broker and one shared compressed clock: the one way the
tools that drive a whole bus (bench, chaos) and the tests start, watch, kill and stop them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from guichet.private_files import private_folder
from guichet.readiness_probe import readiness
from guichet.serve import healthy
from guichet_simulation.logtail import tail
from schemas.base import AGENCIES

READY_SECONDS = 30.0
STOP_SECONDS = 15.0


class LaunchError(Exception):
    """A service died or did not start; the message carries the end of its log."""


def guichet_command(*args: str) -> list[str]:
    """The `guichet` command run by this interpreter, so that a test or a tool runs this code base."""
    return [sys.executable, "-m", "guichet_cli", *args]


def agency_of(key: str) -> str:
    """The agency a process key names: "ofii" and "ofii-2" both run the DT-OFII."""
    return key.split("-", 1)[0]


@dataclass
class ServiceProcesses:
    broker: str
    namespace: str
    data_dir: Path
    time_scale: float
    origin: datetime
    agencies: tuple[str, ...] = AGENCIES
    # The tools that drive a whole bus (bench, chaos) and the tests have no back-office behind the
    # agencies: simulated people play its acts, unless turned off here or for one agency
    # (agency_options {"smoe": ["--no-simulated-actors"]}, which comes after and wins).
    simulated_actors: bool = True
    # Options for every service (e.g. --prefetch 50) and for one agency only (e.g. --no-simulated-actors).
    options: list[str] = field(default_factory=list)
    agency_options: dict[str, list[str]] = field(default_factory=dict)
    log_level: str = "warning"
    # More than one process for an agency, e.g. {"ofii": 2}: same queue, same register. The second
    # is keyed "ofii-2" in `processes` (and logs to ofii-2.log); all share the agency's heartbeat file.
    replicas: dict[str, int] = field(default_factory=dict)
    # Where each service's output goes, <agency>.log (default: the data folder).
    log_dir: Path | None = None
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    def command(self, key: str) -> list[str]:
        agency = agency_of(key)
        return guichet_command(
            "--log-level",
            self.log_level,
            "run",
            agency,
            "--broker",
            self.broker,
            "--namespace",
            self.namespace,
            "--data-dir",
            str(self.data_dir),
            "--time-scale",
            repr(float(self.time_scale)),
            "--clock-origin",
            self.origin.isoformat(),
            *(["--simulated-actors"] if self.simulated_actors else []),
            *self.options,
            *self.agency_options.get(agency, []),
        )

    def log_path(self, agency: str) -> Path:
        return (self.log_dir or self.data_dir) / f"{agency}.log"

    def start(self, agency: str) -> subprocess.Popen:
        private_folder(self.data_dir)  # the services' registers: a folder created 0700
        self.log_path(agency).parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path(agency), "ab") as log:
            self.processes[agency] = subprocess.Popen(self.command(agency), stdout=log, stderr=subprocess.STDOUT)
        self.starts[agency] = self.starts.get(agency, 0) + 1
        return self.processes[agency]

    def start_all(self, ready_seconds: float = READY_SECONDS) -> None:
        for agency in self.agencies:
            for number in range(1, self.replicas.get(agency, 1) + 1):
                self.start(agency if number == 1 else f"{agency}-{number}")
        self.wait_ready(ready_seconds)

    def wait_ready(self, seconds: float = READY_SECONDS) -> None:
        """Ready once every service answers its /readyz (connected, topology declared, consuming). One
        started without --http-port has only its heartbeat file, which says its loop turns: with a
        reachable broker, its first beat comes once it consumes."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.check_alive()
            if all(self.ready(agency) for agency in self.processes):
                return
            time.sleep(0.05)
        raise LaunchError(f"the services were not consuming after {seconds:.0f} s")

    def ready(self, key: str) -> bool:
        agency = agency_of(key)
        options = [*self.options, *self.agency_options.get(agency, [])]
        if "--http-port" in options[:-1]:
            return readiness(f"http://127.0.0.1:{options[options.index('--http-port') + 1]}/readyz", timeout=2)[0]
        return healthy(agency, self.data_dir)

    def check_alive(self) -> None:
        for agency, proc in self.processes.items():
            if proc.poll() is not None:
                raise LaunchError(
                    f"the {agency} service exited with status {proc.returncode}; "
                    f"end of {self.log_path(agency)}:\n{self.log_tail(agency)}"
                )

    def kill(self, agency: str) -> None:
        """SIGKILL: no clean shutdown, whatever the service was doing."""
        proc = self.processes[agency]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop(self, agency: str, seconds: float = STOP_SECONDS) -> int:
        return self.stop_all(seconds, only=(agency,))[agency]

    def stop_all(self, seconds: float = STOP_SECONDS, only: tuple[str, ...] | None = None) -> dict[str, int]:
        """SIGTERM, then the exit status of each; a service that does not stop in time is killed."""
        chosen = {a: p for a, p in self.processes.items() if only is None or a in only}
        for proc in chosen.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + seconds
        codes = {}
        for agency, proc in chosen.items():
            try:
                codes[agency] = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[agency] = proc.wait()
        return codes

    def log_tail(self, agency: str, lines: int = 20) -> str:
        return tail(self.log_path(agency), lines)
