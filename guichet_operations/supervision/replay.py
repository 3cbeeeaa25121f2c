"""Replaying failures the supervision store holds: each stored message goes back to the queue it
failed in, through the replay exchange, as `guichet errors replay` sends it (with the history of its
failures). The console's actions (console/failures.act) then move the status, write the history and
journal the person.

Each failure is claimed before it is sent (`rejeu_en_cours`, a conditional update), so that two
operators pressing "rejouer" at once send it once; if the broker does not take it, the claim is
undone and the failure stays where it was. Archive and restore are the store's alone."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guichet.bus import Bus
from guichet_operations.console.failures import CLAIMED, MOVES
from guichet_operations.error_queue import ErrorQueue
from guichet_operations.supervision.ingest import entry_of
from guichet_operations.supervision.store import Store

REPLAYABLE = MOVES["replay"][0]


class PartlyDone(Exception):
    """Some failures were replayed before the broker refused one: those are done, the rest are not."""

    def __init__(self, done: list[int], cause: BaseException):
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.done, self.cause = done, cause


@dataclass
class BrokerActions:
    """The console's `FailureActions` with the supervision account's connection (opened when first
    needed, again after it broke)."""

    store: Store
    connect: Callable[[], Bus]
    _bus: Bus | None = None
    # One connection for the console's threads: a kombu connection is not shared by two at once.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def replay(self, failures: list[dict[str, Any]]) -> list[int]:
        with self._lock:
            return self._replay(failures)

    def _replay(self, failures: list[dict[str, Any]]) -> list[int]:
        done: list[int] = []
        for failure in failures:
            row = self._claim(failure["id"])
            if row is None:  # another operator's replay got there first
                continue
            try:
                ErrorQueue(self._connection()).replay(entry_of(row))
            except Exception as exc:
                self._unclaim(row)
                self._drop_connection()
                raise PartlyDone(done, exc) from exc
            done.append(row["id"])
        return done

    def archive(self, failures: list[dict[str, Any]]) -> list[int]:
        return [f["id"] for f in failures]

    def restore(self, failures: list[dict[str, Any]]) -> list[int]:
        return [f["id"] for f in failures]

    def close(self) -> None:
        self._drop_connection()

    def _claim(self, failure_id: int) -> dict[str, Any] | None:
        with self.store.transaction() as tx:
            rows = tx.rows("SELECT * FROM failures WHERE id = ?", failure_id)
            if not rows or rows[0]["status"] not in REPLAYABLE:
                return None
            claimed = tx.execute(
                "UPDATE failures SET status = ? WHERE id = ? AND status = ?", CLAIMED, failure_id, rows[0]["status"]
            )
            return rows[0] if claimed.rowcount == 1 else None

    def _unclaim(self, row: dict[str, Any]) -> None:
        with self.store.transaction() as tx:
            tx.execute("UPDATE failures SET status = ? WHERE id = ? AND status = ?", row["status"], row["id"], CLAIMED)

    def _connection(self) -> Bus:
        if self._bus is None:
            self._bus = self.connect()
        return self._bus

    def _drop_connection(self) -> None:
        if self._bus is not None:
            self._bus.close()
            self._bus = None
