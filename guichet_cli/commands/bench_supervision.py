"""`guichet bench --supervision`: the supervision service beside the bus under the bench's load, on a
store of its own (SQLite in the bench's directory, or --supervision-store). Measured: each audit
copy's lag (the store taking it minus the agency shipping it) and how long after the DT-OFII's last
hand-over the store shows every dossier handed over."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guichet.settings import TLSSettings
from guichet_operations.supervision.service import Supervisor, wait_consuming
from guichet_operations.supervision.store import Store

CATCH_UP_SECONDS = 120.0


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class SupervisionWatch:
    broker: str
    namespace: str
    store_url: str
    tls: TLSSettings | None = None
    lags: list[float] = field(default_factory=list)

    def start(self) -> SupervisionWatch:
        self.store = Store(self.store_url)
        self.supervisor = Supervisor(
            self.store, self.broker, namespace=self.namespace, tls=self.tls, on_lag=lambda _, lag: self.lags.append(lag)
        )
        self.thread = threading.Thread(target=self.supervisor.run, name="bench-supervision", daemon=True)
        self.thread.start()
        if not wait_consuming(self.supervisor):
            raise RuntimeError("the supervision service did not start consuming")
        return self

    def handed_over(self) -> int:
        return int(self.store.rows("SELECT COUNT(*) AS n FROM dossiers WHERE outcome = 'titre_remis'")[0]["n"])

    def figures(self, dossiers_done: int) -> dict[str, Any]:
        """Once the bus is done: wait (up to CATCH_UP_SECONDS) for the store to show what the bus did."""
        started = time.monotonic()
        while self.handed_over() < dossiers_done and time.monotonic() - started < CATCH_UP_SECONDS:
            time.sleep(0.2)  # polling the store: the measure is how long it takes to be there
        in_store = self.handed_over()
        ms = [lag * 1000 for lag in self.lags]
        return {
            "copies": len(ms),
            "lag_ms": {
                name: None if (v := _quantile(ms, q)) is None else round(v, 1)
                for name, q in (("p50", 0.5), ("p95", 0.95), ("max", 1.0))
            },  # fmt: skip
            "dossiers_in_store": in_store,
            "caught_up_s": round(time.monotonic() - started, 2) if in_store >= dossiers_done else None,
        }

    def close(self) -> None:
        self.supervisor.stop()
        self.thread.join(timeout=10)
        self.store.close()


def default_store(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'supervision.sqlite3'}"
