"""Registers (and the journal they hold), the supervision store and the operator's actions journal
are created 0600, their SQLite sidecars (-wal, -shm) too, in data folders created 0700, whatever
the umask lets through; a folder that already exists keeps its owner's mode."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from guichet.register import Register
from guichet_operations.supervision.store import Store
from guichet_operations.view.actions import ActionLog
from guichet_simulation.generate import write_scenario


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def permissive_umask():
    """The usual umask (022), which would leave new files world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def test_a_register_is_created_0600_with_its_sidecars_in_folders_created_0700(tmp_path):
    tmp_path.chmod(0o755)
    data = tmp_path / "data" / "agences"
    register = Register(str(data / "ofii.sqlite3"), "ofii")
    try:
        with register.transaction() as tx:
            tx.execute("CREATE TABLE IF NOT EXISTS probe (x INTEGER)")
            tx.execute("INSERT INTO probe VALUES (1)")
        made = [data / f"ofii.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")]
        assert all(p.exists() for p in made), "a durable register writes ahead in -wal, with -shm"
        assert {p.name: mode(p) for p in made} == {p.name: 0o600 for p in made}
    finally:
        register.close()
    assert (mode(tmp_path / "data"), mode(data)) == (0o700, 0o700)
    assert mode(tmp_path) == 0o755, "an existing folder keeps its mode"


def test_the_supervision_store_and_its_sidecars_are_created_0600(tmp_path):
    store = Store(f"sqlite:///{tmp_path}/supervision/store.sqlite3")
    try:
        made = [tmp_path / "supervision" / f"store.sqlite3{suffix}" for suffix in ("", "-wal", "-shm")]
        assert [mode(p) for p in made if p.exists()] == [0o600] * 3
    finally:
        store.close()
    assert mode(tmp_path / "supervision") == 0o700


def test_the_operator_actions_journal_is_created_0600(tmp_path):
    log = ActionLog(tmp_path / "ops" / "ops-actions.jsonl")
    log.record("operateur", "replay", {"group": "g"}, ["m-1"], "ok")
    log.record("operateur", "purge", {"group": "g"}, ["m-2"], "ok")
    assert mode(tmp_path / "ops" / "ops-actions.jsonl") == 0o600 and mode(tmp_path / "ops") == 0o700
    assert [e["action"] for e in log.last()] == ["purge", "replay"]


def test_guichet_simulate_creates_its_data_folder_0700_and_the_registers_0600(tmp_path):
    scenario = tmp_path / "s.json"
    with open(scenario, "w") as out:
        write_scenario(out, 2, 7)
    data = tmp_path / "data" / "run"
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "simulate", "--scenario", str(scenario), "--data-dir", str(data)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    registers = sorted(data.glob("*.sqlite3*"))
    assert len(registers) >= 4 and {p.name: mode(p) for p in registers} == {p.name: 0o600 for p in registers}
    assert (mode(tmp_path / "data"), mode(data)) == (0o700, 0o700)
