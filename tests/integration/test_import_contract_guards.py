"""The import contract catches what it is there to catch: a production command that imports the
simulation kit breaks it (pyproject.toml, [tool.importlinter]), on a copy of the code base."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("guichet", "guichet_cli", "guichet_operations", "guichet_simulation", "services", "schemas")


def lint_copy(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(config_filename='pyproject.toml', no_cache=True))",
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_submit_importing_the_simulation_kit_breaks_the_contract(tmp_path):
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    assert lint_copy(tmp_path).returncode == 0, "the copy keeps the contract before it is changed"

    submit = tmp_path / "guichet_cli" / "commands" / "submit.py"
    submit.write_text(submit.read_text() + "\nfrom guichet_simulation.harness import Simulation  # noqa\n")
    broken = lint_copy(tmp_path)
    assert broken.returncode != 0
    assert "guichet_cli.commands.submit is not allowed to import guichet_simulation" in broken.stdout
