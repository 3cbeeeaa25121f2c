"""A three-node RabbitMQ cluster on this machine, for the `cluster` tests.

Each node has its own name (rabbit-c1@localhost...), AMQP port (5701-5703), distribution port
(25701-25703), data and log folders under the test's temporary folder, an empty plugins file (no
management listener to fight over) and a config file of its own (the machine's binds 5672). They
share an Erlang cookie through HOME. Nodes are stopped by the PIDs this module started (the Erlang
VM's, from its pid file, or the process group of its start script), never by name: the machine's
own RabbitMQ on 5672 is left alone.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

RABBITMQ_SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"
RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"
COOKIE = "GUICHETCLUSTERTESTCOOKIE"


@dataclass
class Node:
    index: int
    base: Path
    process: subprocess.Popen | None = None
    pid: int | None = None  # the Erlang VM's, read from its pid file

    @property
    def name(self) -> str:
        return f"rabbit-c{self.index}@localhost"

    @property
    def port(self) -> int:
        return 5700 + self.index

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    @property
    def home(self) -> Path:
        return self.base / "home"

    def env(self) -> dict[str, str]:
        folder = self.base / f"c{self.index}"
        return {
            **os.environ,
            "HOME": str(self.home),
            "RABBITMQ_NODENAME": self.name,
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(25700 + self.index),
            "RABBITMQ_MNESIA_BASE": str(folder / "mnesia"),
            "RABBITMQ_LOG_BASE": str(folder / "log"),
            "RABBITMQ_PID_FILE": str(folder / "node.pid"),
            "RABBITMQ_CONFIG_FILE": str(folder / "rabbitmq.conf"),
            "RABBITMQ_ADVANCED_CONFIG_FILE": str(folder / "advanced.config"),
            "RABBITMQ_CONF_ENV_FILE": str(folder / "rabbitmq-env.conf"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(folder / "enabled_plugins"),
            "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": f"-setcookie {COOKIE}",
            "RABBITMQ_CTL_ERL_ARGS": f"-setcookie {COOKIE}",
            "ERL_EPMD_ADDRESS": "127.0.0.1",
        }

    def prepare(self) -> None:
        folder = self.base / f"c{self.index}"
        (folder / "log").mkdir(parents=True, exist_ok=True)
        (folder / "rabbitmq.conf").write_text(
            f"listeners.tcp.local = 127.0.0.1:{self.port}\nloopback_users = none\n"
            "cluster_partition_handling = pause_minority\n"
        )
        (folder / "advanced.config").write_text("[].\n")
        (folder / "rabbitmq-env.conf").write_text("")
        (folder / "enabled_plugins").write_text("[].\n")
        self.home.mkdir(parents=True, exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text(COOKIE)
            cookie.chmod(0o400)

    def start(self) -> None:
        self.prepare()
        log = open(self.base / f"c{self.index}" / "server.out", "ab")
        self.process = subprocess.Popen(
            [RABBITMQ_SERVER], env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.pid = None

    def ctl(self, *args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [RABBITMQCTL, "-n", self.name, *args], env=self.env(), capture_output=True, text=True, timeout=timeout
        )
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl -n {self.name} {' '.join(args)}: {done.stdout}{done.stderr}")
        return done

    def wait_started(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; see {self.base}")
            if self.ctl("await_startup", "--timeout", "5", check=False, timeout=30).returncode == 0:
                self.pid = int((self.base / f"c{self.index}" / "node.pid").read_text().strip())
                return
            time.sleep(0.5)
        raise RuntimeError(f"{self.name} did not start within {timeout:.0f} s")

    def accepts_connections(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def kill(self) -> None:
        """SIGKILL the Erlang VM: a node lost as by a power cut."""
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait(timeout=30)
        self.pid = None

    def stop(self) -> None:
        """SIGTERM to the node's own process group (the script, the VM and its helpers; it was started
        in a session of its own), SIGKILL if it does not stop in time."""
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=30)
        self.pid = None


@dataclass
class Cluster:
    base: Path
    nodes: list[Node] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The failover list every service is given."""
        return ";".join(n.url for n in self.nodes)

    def start(self, size: int = 3) -> Cluster:
        self.nodes = [Node(i, self.base) for i in range(1, size + 1)]
        for node in self.nodes:
            node.start()
        for node in self.nodes:
            node.wait_started()
        first = self.nodes[0]
        for node in self.nodes[1:]:
            node.ctl("stop_app")
            node.ctl("join_cluster", first.name)
            node.ctl("start_app")
            node.wait_started()
        return self

    def running(self) -> list[Node]:
        return [n for n in self.nodes if n.pid is not None]

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()

    def connected_node(self) -> Node:
        """The node most client connections are on, by the server port each connection reached
        (rabbitmqctl lists the whole cluster's connections)."""
        counts: dict[int, int] = {}
        for node in self.running():
            out = node.ctl("-q", "list_connections", "port", check=False, timeout=30)
            if out.returncode == 0:
                for line in out.stdout.split():
                    if line.strip().isdigit():
                        counts[int(line)] = counts.get(int(line), 0) + 1
                break
        if not counts:
            raise RuntimeError("no client connection on the cluster")
        busiest = max(counts, key=counts.get)
        return next(n for n in self.nodes if n.port == busiest)
