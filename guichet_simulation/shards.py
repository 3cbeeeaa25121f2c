"""A large simulation on the embedded default split across processes, one per core.

Dossiers do not touch one another: every number an agency gives (AGDREF, card, authorisation)
follows from the dossier's own id, and every deadline from its own dates. So shard `i` of `n`
runs the dossiers whose place in the scenario is `i` modulo `n`, through its own four agencies,
registers and in-memory bus, on its own virtual clock, with every guarantee of a single run; each
dossier meets the same virtual instants as it would in one process. The parent then reads the
shards' results in the scenario's order and adds up annex 2.

Workers are forked: they share the parent's validated scenario text without reading the file again.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import connection
from pathlib import Path

from guichet.receipt import Freshness
from guichet_simulation.harness import Progress, Simulation
from services.directory import Directory
from services.views import BIOMETRIC_CATEGORIES

# Below this many dossiers the processes' start costs more than it saves.
MIN_DOSSIERS_PER_SHARD = 1000
POLL_SECONDS = 0.2


def default_workers(dossiers: int) -> int:
    return max(1, min(os.cpu_count() or 1, dossiers // MIN_DOSSIERS_PER_SHARD))


class Shard:
    """Every `count`-th dossier of a scenario, from `index`: read as a scenario is."""

    def __init__(self, source, index: int, count: int):
        self._source, self._index, self._count = source, index, count
        self.regime = source.regime
        self.ids = source.ids[index::count]

    def dossier(self, local: int):
        return self._source.dossier(self._index + local * self._count)

    def filings(self) -> list[tuple[datetime, int]]:
        return [
            (at, (g - self._index) // self._count) for at, g in self._source.filings() if g % self._count == self._index
        ]


@dataclass
class ShardedOutcome:
    """The same reading as `harness.Outcome`, over the shards' results."""

    ids: list[str]
    folder: Path
    count: int
    report: dict
    tables: dict
    errors: int
    _failed: list[dict]

    def dossiers(self) -> Iterator[dict]:
        files = [(self.folder / f"{i}.views").open(encoding="utf-8") for i in range(self.count)]
        try:
            for position in range(len(self.ids)):
                line = files[position % self.count].readline()
                view = json.loads(line)
                if view is not None:
                    yield view
        finally:
            for f in files:
                f.close()

    def biometric_report(self) -> dict:
        return self.report

    def biometric_tables(self) -> dict:
        return self.tables

    def failed(self) -> list[dict]:
        return self._failed

    def as_dict(self) -> dict:
        return {
            "dossiers": list(self.dossiers()),
            "biometric_report": self.report,
            "biometric_tables": self.tables,
            "errors": self.errors,
            "failed": self._failed,
        }


def _run_shard(
    source,
    index: int,
    count: int,
    folder: Path,
    counters,
    data_dir: Path | None,
    directory: Directory,
    freshness: Freshness | None,
) -> None:
    """In the worker: run the shard, write a line per dossier (its view, or null) and the rest."""
    shard = Shard(source, index, count)

    def report_progress(progress: Progress, now: datetime | None) -> None:
        counters[3 * index] = progress.filed
        counters[3 * index + 1] = progress.messages
        counters[3 * index + 2] = now.timestamp() if now is not None else 0

    simulation = Simulation(
        shard,
        data_dir=data_dir / f"shard-{index}" if data_dir else None,
        on_progress=report_progress,
        directory=directory,
        freshness=freshness,
    )
    with simulation.session() as outcome, (folder / f"{index}.views").open("w", encoding="utf-8") as views:
        for _, view in outcome.views():
            views.write(json.dumps(view, ensure_ascii=False) + "\n")
        rest = {
            "report": outcome.biometric_report(),
            "tables": outcome.biometric_tables(),
            "errors": outcome.errors,
            "failed": outcome.failed(),
        }
    (folder / f"{index}.json").write_text(json.dumps(rest, ensure_ascii=False), encoding="utf-8")


@contextmanager
def sharded_session(
    source,
    workers: int,
    directory: Directory,
    data_dir: Path | None = None,
    on_progress: Callable[[Progress, datetime | None], None] | None = None,
    freshness: Freshness | None = None,
) -> Iterator[ShardedOutcome]:
    context = multiprocessing.get_context("fork")
    counters = context.Array("d", 3 * workers, lock=False)
    with tempfile.TemporaryDirectory(prefix="guichet-shards-") as tmp:
        folder = Path(tmp)
        processes = [
            context.Process(
                target=_run_shard,
                args=(source, i, workers, folder, counters, data_dir, directory, freshness),
                name=f"simulate-shard-{i}",
            )
            for i in range(workers)
        ]
        for process in processes:
            process.start()
        try:
            running = [p.sentinel for p in processes]
            while running:
                for ended in connection.wait(running, timeout=POLL_SECONDS):
                    running.remove(ended)
                if on_progress is not None:
                    _show(counters, workers, on_progress)
            for process in processes:
                process.join()
            failed_shards = [p.name for p in processes if p.exitcode != 0]
            if failed_shards:
                raise RuntimeError(f"simulation shard(s) failed: {', '.join(failed_shards)}")
            yield _gather(source, folder, workers)
        finally:
            for process in processes:
                if process.is_alive():
                    process.terminate()
                    process.join()


def _show(counters, workers: int, on_progress) -> None:
    progress = Progress(
        filed=int(sum(counters[3 * i] for i in range(workers))),
        messages=int(sum(counters[3 * i + 1] for i in range(workers))),
    )
    moments = [counters[3 * i + 2] for i in range(workers) if counters[3 * i + 2]]
    on_progress(progress, datetime.fromtimestamp(min(moments), UTC) if moments else None)


def _gather(source, folder: Path, workers: int) -> ShardedOutcome:
    parts = [json.loads((folder / f"{i}.json").read_text(encoding="utf-8")) for i in range(workers)]
    position = {dossier_id: p for p, dossier_id in enumerate(source.ids)}
    failed = sorted((f for part in parts for f in part["failed"]), key=lambda f: position[f["id"]])
    return ShardedOutcome(
        ids=source.ids,
        folder=folder,
        count=workers,
        report=merge_reports(p["report"] for p in parts),
        tables=merge_tables(p["tables"] for p in parts),
        errors=sum(p["errors"] for p in parts),
        _failed=failed,
    )


def merge_reports(reports) -> dict:
    """Annex 2's counts of several shards, as one run would count them."""
    total: dict[str, dict[str, int]] = {}
    for report in reports:
        for month, row in report.items():
            into = total.setdefault(month, dict.fromkeys(BIOMETRIC_CATEGORIES, 0))
            for category, count in row.items():
                into[category] += count
    return {month: total[month] for month in sorted(total)}


def merge_tables(tables_of_shards) -> dict:
    """Annex 2's AGDREF numbers of several shards, as one run would list them (sorted)."""
    total: dict = {}
    for tables in tables_of_shards:
        for department, months in tables.items():
            for month, row in months.items():
                into = total.setdefault(department, {}).setdefault(month, {c: [] for c in BIOMETRIC_CATEGORIES})
                for category, numbers in row.items():
                    into[category].extend(numbers)
    return {
        dep: {m: {c: sorted(n) for c, n in total[dep][m].items()} for m in sorted(total[dep])} for dep in sorted(total)
    }
