"""The figures of a bus run, read back from the four agencies' registers (see bus_run.py for what
each figure means): throughput within the run, message sizes, and the latency of every hop."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from guichet.register_reader import RegisterReader
from guichet_simulation.benchmark.stats import summary
from schemas.base import AGENCIES

if TYPE_CHECKING:
    from guichet_simulation.benchmark.bus_run import BusRun

DONE = "titre_remis"


def measure(
    result: BusRun, data_dir: Path, origin: datetime, scale: float, started: float, filing_sizes: list[int]
) -> None:
    origin_epoch = origin.timestamp()

    def real(text: str) -> float:
        """The real epoch second of a virtual instant written by a register."""
        return origin_epoch + (datetime.fromisoformat(text).timestamp() - origin_epoch) / scale

    conns = {agency: RegisterReader(agency, data_dir) for agency in AGENCIES}
    try:
        states = conns["ofii"].outcomes()
        result.outcomes = {}
        for row in states:
            result.outcomes[row["outcome"] or "en_cours"] = result.outcomes.get(row["outcome"] or "en_cours", 0) + 1
        done_at = [real(row["updated_at"]) for row in states if row["outcome"] == DONE]
        result.done = len(done_at)
        end = max(done_at) if done_at else time.time()
        result.wall_s = end - started

        published_by: dict[str, tuple[str, float]] = {}  # message_id -> (publishing service, confirm time)
        in_window = 0
        total = 0
        sizes = list(filing_sizes)
        for agency, conn in conns.items():
            for row in conn.published_outbox():
                confirmed = real(row["published_at"])
                total += 1
                in_window += confirmed <= end
                result.timer_messages += confirmed <= end and _is_timer(row["type"])
                sizes.append(len(row["body"].encode()))
            for row in conn.journal_records("out"):
                published_by[row["message_id"]] = (agency, real(row["recorded_at"]))
        # Every filing was confirmed before the first dossier could be done.
        result.filings = len(filing_sizes)
        result.messages = len(filing_sizes) + in_window
        result.messages_total = len(filing_sizes) + total
        result.body_bytes = round(sum(sizes) / len(sizes)) if sizes else 0

        hops: dict[str, list[float]] = defaultdict(list)
        after_confirm: list[float] = []
        order: dict[str, float] = {}
        deliveries = 0
        for agency, conn in conns.items():
            for row in conn.journal_records("in"):
                deliveries += 1
                handled = real(row["recorded_at"])
                publisher, confirmed = published_by.get(row["message_id"], ("bench", None))
                label = f"{publisher}->{agency}"
                hops[label].append((handled - real(row["sent_at"])) * 1000)
                if confirmed is not None:
                    after_confirm.append((handled - confirmed) * 1000)
                # Hops are listed in the order the first dossier went through them.
                if row["dossier_id"] == "BENCH-000001":
                    order[label] = min(order.get(label, handled), handled)
        result.hops_per_dossier = deliveries / result.dossiers if result.dossiers else 0.0
        labels = sorted(hops, key=lambda label: (order.get(label, float("inf")), label))
        result.latency_ms = {label: summary(hops[label]) for label in labels}
        result.latency_ms["all"] = summary([x for label in labels for x in hops[label]])
        result.latency_after_confirm_ms = {"all": summary(after_confirm)}
    finally:
        for conn in conns.values():
            conn.close()


def _is_timer(type_: str) -> bool:
    """A reminder or an échéance an agency scheduled for itself, or the alert one of them causes."""
    return any(part in type_ for part in (".veille.", ".alerte.", ".echeance."))
