"""The layers are a contract: the runtime (`guichet`) imports no agency, no message contract and no
tool; the agencies and contracts import no tool; the operator tools and the simulation kit import
neither each other nor the command line (pyproject.toml, [tool.importlinter])."""

from __future__ import annotations

import tomllib
from pathlib import Path

from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_the_contract_names_the_runtime_and_the_agencies():
    contracts = tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]
    forbidden = next(c for c in contracts if c["type"] == "forbidden")
    assert forbidden["source_modules"] == ["guichet"]
    assert {"services", "schemas", "guichet_cli", "guichet_operations", "guichet_simulation"} <= set(
        forbidden["forbidden_modules"]
    )
    layers = next(c for c in contracts if c["type"] == "layers")
    assert layers["layers"] == [
        "guichet_cli",
        "guichet_operations | guichet_simulation",
        "services",
        "schemas",
        "guichet",
    ]


def test_the_code_keeps_the_import_contract():
    assert lint_imports(config_filename=str(PYPROJECT), no_cache=True) == 0
