"""A large simulation split across processes gives the result one process gives, byte for byte."""

import subprocess
import sys
from datetime import UTC

from guichet_simulation.shards import default_workers, merge_reports, merge_tables


def simulate(scenario, *args):
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "simulate", "--scenario", str(scenario), "--json", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_three_processes_write_what_one_writes(tmp_path):
    scenario = tmp_path / "year.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "guichet_cli",
            "scenario",
            "generate",
            "--dossiers",
            "150",
            "--seed",
            "11",
            "--out",
            str(scenario),
        ],
        check=True,
        timeout=120,
    )
    one = simulate(scenario, "--workers", "1")
    assert '"biometric_tables": {\n    "' in one, "the scenario produces annex 2 entries to merge"
    assert simulate(scenario, "--workers", "3") == one


def test_annex_2_of_shards_adds_up_as_one_run_counts_it():
    report = merge_reports(
        [
            {"2026-03": {"salarie_en_mission": 1, "carte_bleue_europeenne": 0}},
            {"2026-02": {"salarie_en_mission": 2}, "2026-03": {"salarie_en_mission": 4}},
        ]
    )
    assert list(report) == ["2026-02", "2026-03"] and report["2026-03"]["salarie_en_mission"] == 5
    tables = merge_tables(
        [
            {"75": {"2026-03": {"salarie_en_mission": ["b", "d"]}}},
            {"75": {"2026-03": {"salarie_en_mission": ["c", "a"]}}, "13": {"2026-01": {}}},
        ]
    )
    assert list(tables) == ["13", "75"] and tables["75"]["2026-03"]["salarie_en_mission"] == ["a", "b", "c", "d"]


def test_small_scenarios_run_in_one_process():
    assert default_workers(200) == 1 and default_workers(999) == 1


def test_a_number_of_processes_out_of_range_is_refused_naming_the_option():
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "simulate", "--workers", "0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2 and "--workers: 0 is not a number of processes (1-64)" in result.stderr


def test_the_progress_line_adds_up_the_shards_and_shows_the_earliest_virtual_date():
    from datetime import datetime

    from guichet_simulation.shards import _show

    seen = []
    early, late = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC)
    # Per shard: dossiers filed, messages moved, virtual time (0 while it has not started).
    _show([10, 100, late.timestamp(), 7, 50, early.timestamp(), 0, 0, 0], 3, lambda p, now: seen.append((p, now)))
    ((progress, now),) = seen
    assert (progress.filed, progress.messages, now) == (17, 150, early)
