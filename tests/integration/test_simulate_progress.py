"""A large scenario shows its progress on a terminal (standard error), and standard output still
carries the JSON document alone."""

import json
import os
import pty
import subprocess
import sys
import threading

from guichet_simulation.generate import write_scenario


def test_simulate_on_a_terminal_shows_progress_and_keeps_stdout_for_the_json(tmp_path):
    scenario = tmp_path / "varied.json"
    with open(scenario, "w") as out:
        write_scenario(out, 200, 7)
    master, slave = pty.openpty()
    terminal: list[bytes] = []
    reader = threading.Thread(target=_read_all, args=(master, terminal), daemon=True)
    reader.start()
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "simulate", "--scenario", str(scenario), "--json"],
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
        timeout=600,
    )
    os.close(slave)
    reader.join(timeout=10)
    assert result.returncode == 0
    assert len(json.loads(result.stdout)["dossiers"]) == 200
    shown = b"".join(terminal).decode(errors="replace")
    assert "\rsimulate: " in shown and "/200 dossiers filed" in shown


def test_without_a_terminal_nothing_but_logs_reach_standard_error(tmp_path):
    scenario = tmp_path / "varied.json"
    with open(scenario, "w") as out:
        write_scenario(out, 200, 7)
    result = subprocess.run(
        [sys.executable, "-m", "guichet_cli", "simulate", "--scenario", str(scenario), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0 and "\rsimulate: " not in result.stderr


def _read_all(fd: int, into: list) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the terminal closed: the command is done
            break
        if not chunk:
            break
        into.append(chunk)
    os.close(fd)
