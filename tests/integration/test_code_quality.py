"""The code base keeps its tools' rules: ruff's lint and format (pyproject.toml, [tool.ruff]) on every
Python file, `mypy --strict` on the runtime package ([tool.mypy] names the files), and no product
module over 300 lines."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("guichet", "guichet_cli", "guichet_operations", "guichet_simulation", "services", "schemas")
MAX_LINES = 300


def run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *command], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def test_runtime_types_check_strictly():
    result = run("mypy")
    assert result.returncode == 0, f"mypy found errors:\n{result.stdout}{result.stderr}"


@pytest.mark.parametrize(
    "command", [("ruff", "check", "."), ("ruff", "format", "--check", ".")], ids=["lint", "format"]
)
def test_ruff_passes(command):
    result = run(*command)
    assert result.returncode == 0, f"{' '.join(command)}:\n{result.stdout}{result.stderr}"


def test_no_product_module_is_over_300_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for package in PRODUCT
        for p in (ROOT / package).rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}, f"modules over {MAX_LINES} lines: split them by what they do"
