"""`guichet bench --broker-restart`: how soon the services consume again once RabbitMQ is back.

The broker's application is stopped and started again (`rabbitmqctl stop_app`, `start_app`) while
the four services run; the instant its AMQP port answers again is "back". The bench then files
its dossiers, and the recovery is the time from "back" to the DT-OFII's first handled delivery
(its journal's first 'in' record): the services had to notice the loss, reconnect (with their
backoff), declare their topology and consume again.
"""

from __future__ import annotations

import socket
import subprocess
import time
from urllib.parse import urlsplit

STOP = "rabbitmqctl stop_app"
START = "rabbitmqctl start_app"
BACK_SECONDS = 120.0


class RestartFailed(Exception):
    """The broker could not be stopped or did not come back in time."""


def restart_broker(broker_url: str, stop: str = STOP, start: str = START) -> float:
    """Stop and start the broker's application; return when (epoch seconds) its port answered again."""
    parts = urlsplit(broker_url)
    address = (parts.hostname or "localhost", parts.port or (5671 if parts.scheme == "amqps" else 5672))
    stopped = subprocess.run(stop, shell=True, capture_output=True, text=True, timeout=BACK_SECONDS)
    if stopped.returncode != 0:
        raise RestartFailed(f"{stop}: {stopped.stderr.strip() or stopped.stdout.strip()}")
    # Started in the background: the port is watched while the application boots.
    starting = subprocess.Popen(start, shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + BACK_SECONDS
    try:
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(address, timeout=0.2):
                    return time.time()
            except OSError:
                time.sleep(0.01)  # polling a port, no message to wait on
        raise RestartFailed(f"the broker's port {address[0]}:{address[1]} did not answer within {BACK_SECONDS:.0f} s")
    finally:
        starting.wait(timeout=BACK_SECONDS)
