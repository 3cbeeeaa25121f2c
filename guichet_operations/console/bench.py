"""`guichet bench console`: the console served by uvicorn in a process of its own, N people reading its
main pages at once for S seconds; per page, the latency's p50 and p95, and the console's peak RSS.

The console lets no one in without a session. Without `--cookie` or `--header`, the bench makes a
`lecture` account of its own and signs each simulated person in through the console's form
(console/bench_session.py); with them, every person sends what they give."""

from __future__ import annotations

import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from guichet_operations.console.bench_session import bench_account, served_environment, sign_in
from guichet_operations.supervision.store import Store

DEFAULT_APP = "guichet_operations.console.serve:app"
PAGES = ("liste", "liste filtrée", "recherche", "dossier", "échéances", "erreurs")


@dataclass
class BenchResult:
    latencies: dict[str, list[float]] = field(default_factory=lambda: {p: [] for p in PAGES})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(PAGES, 0))
    peak_rss_mb: float = 0.0

    def lines(self) -> list[str]:
        out = []
        for page in PAGES:
            values = sorted(self.latencies[page])
            if not values:
                out.append(f"{page:<15} aucune réponse ({self.errors[page]} erreurs)")
                continue
            p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
            out.append(
                f"{page:<15} {len(values):>6} requêtes  p50 {statistics.median(values):7.1f} ms  "
                f"p95 {p95:7.1f} ms  erreurs {self.errors[page]}"
            )
        out.append(f"console: pic de mémoire (VmHWM) {self.peak_rss_mb:.0f} Mo")
        return out


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _samples(store_url: str, count: int = 200) -> list[dict]:
    store = Store(store_url)
    try:
        return store.rows("SELECT dossier_id, siret FROM dossiers ORDER BY updated_at DESC LIMIT ?", count)
    finally:
        store.close()


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _paths(rng: random.Random, samples: list[dict]) -> list[tuple[str, str]]:
    pick = rng.choice(samples)
    return [
        ("liste", "/"),
        ("liste filtrée", "/?etat=en_cours&agence=smoe"),
        ("recherche", f"/?q={pick['siret'] or pick['dossier_id']}"),
        ("dossier", f"/dossiers/{pick['dossier_id']}"),
        ("échéances", "/echeances"),
        ("erreurs", "/erreurs"),
    ]


def run_console_bench(
    store_url: str, users: int, seconds: float, headers: dict[str, str], cookies: dict[str, str],
    app: str = DEFAULT_APP,
) -> BenchResult:  # fmt: skip
    if not headers and not cookies:
        with bench_account(store_url) as (identifier, password):
            return _run(store_url, users, seconds, {}, {}, app, (identifier, password))
    return _run(store_url, users, seconds, headers, cookies, app, None)


def _run(
    store_url: str, users: int, seconds: float, headers: dict[str, str], cookies: dict[str, str], app: str,
    account: tuple[str, str] | None,
) -> BenchResult:  # fmt: skip
    samples = _samples(store_url) or [{"dossier_id": "absent", "siret": None}]
    port = _port()
    env = os.environ | {"GUICHET_CONSOLE_STORE": store_url} | (served_environment() if account else {})
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", app, "--host", "127.0.0.1", "--port", str(port),
         "--log-level", "warning", "--no-access-log"],
        env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    result = BenchResult()
    lock = threading.Lock()
    try:
        _wait_ready(base, server, account is not None, headers, cookies)
        clients = [httpx.Client(base_url=base, headers=headers, cookies=cookies, timeout=30) for _ in range(users)]
        if account is not None:
            for client in clients:
                sign_in(client, *account)
        deadline = time.monotonic() + seconds

        def person(n: int) -> None:
            rng = random.Random(n)
            client = clients[n]
            try:
                while time.monotonic() < deadline:
                    for page, path in _paths(rng, samples):
                        started = time.perf_counter()
                        try:
                            ok = client.get(path).status_code == 200
                        except httpx.HTTPError:
                            ok = False
                        took = (time.perf_counter() - started) * 1000
                        with lock:
                            if ok:
                                result.latencies[page].append(took)
                            else:
                                result.errors[page] += 1
            finally:
                client.close()

        threads = [threading.Thread(target=person, args=(n,)) for n in range(users)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        result.peak_rss_mb = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return result


def _wait_ready(
    base: str, server: subprocess.Popen, signs_in: bool, headers: dict[str, str], cookies: dict[str, str]
) -> None:
    """Until the console answers (a minute at most): polled, since uvicorn says nothing else."""
    limit = time.monotonic() + 60
    while time.monotonic() < limit:
        if server.poll() is not None:
            raise RuntimeError(f"the console exited with status {server.returncode} before answering")
        try:
            r = httpx.get(
                base + ("/connexion" if signs_in else "/services"), headers=headers, cookies=cookies, timeout=2
            )
        except httpx.HTTPError:
            time.sleep(0.2)  # a server starting up: nothing to wait on but its port
            continue
        if r.status_code != 200:
            raise RuntimeError(f"the console answers {r.status_code}: give a lecture session (--cookie or --header)")
        return
    raise RuntimeError("the console did not answer within a minute")
