"""`guichet --version` names the version pyproject.toml declares, the one an incident report quotes."""

import tomllib
from pathlib import Path

import pytest

from guichet_cli.main import main


def test_version_is_the_one_the_project_declares(capsys):
    declared = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())["project"]["version"]
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"guichet {declared}"
