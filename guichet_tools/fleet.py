"""Agency services as OS processes on one broker and one shared compressed clock, for the tools
that drive a whole bus (`guichet chaos`)."""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from schemas.base import AGENCIES

READY_SECONDS = 30.0
STOP_SECONDS = 15.0


class FleetError(Exception):
    pass


@dataclass
class Fleet:
    broker: str
    namespace: str
    data_dir: Path
    time_scale: float
    origin: datetime
    agencies: tuple[str, ...] = AGENCIES
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    starts: dict[str, int] = field(default_factory=dict)

    def command(self, agency: str) -> list[str]:
        return [sys.executable, "-m", "guichet_tools", "--log-level", "warning", "run", agency, "--broker", self.broker,
                "--namespace", self.namespace, "--data-dir", str(self.data_dir), "--time-scale",
                repr(float(self.time_scale)), "--clock-origin", self.origin.isoformat()]

    def start(self, agency: str) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.data_dir / f"{agency}.log", "ab")
        self.processes[agency] = subprocess.Popen(self.command(agency), stdout=log, stderr=subprocess.STDOUT)
        log.close()
        self.starts[agency] = self.starts.get(agency, 0) + 1

    def start_all(self) -> None:
        for agency in self.agencies:
            self.start(agency)
        self.wait_ready()

    def wait_ready(self) -> None:
        """Ready once every loop wrote its first heartbeat (guichet/serve.py)."""
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            for agency, proc in self.processes.items():
                if proc.poll() is not None:
                    raise FleetError(f"the {agency} service exited with status {proc.returncode}")
            if all((self.data_dir / f"{a}.alive").exists() for a in self.processes):
                return
            time.sleep(0.05)
        raise FleetError(f"the services were not consuming after {READY_SECONDS:.0f} s")

    def kill(self, agency: str) -> None:
        """SIGKILL: no clean shutdown, whatever the service was doing."""
        proc = self.processes[agency]
        proc.send_signal(signal.SIGKILL)
        proc.wait()

    def stop_all(self) -> dict[str, int]:
        for proc in self.processes.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_SECONDS
        codes = {}
        for agency, proc in self.processes.items():
            try:
                codes[agency] = proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                codes[agency] = proc.wait()
        return codes
