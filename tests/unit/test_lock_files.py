"""The lock files pin what pyproject.toml asks for, and the image (requirements/runtime.txt) runs the
versions the tests ran with (requirements/test.txt): a dependency added without `scripts/lock` fails
here, not in a deployment."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).parents[2]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def pins(name: str) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", (ROOT / "requirements" / name).read_text(), re.M)
    return {normalise(package): version for package, version in found}


def normalise(requirement: str) -> str:
    """The distribution's name as pip compares it (PEP 503), without version, extras or markers."""
    name = re.match(r"[A-Za-z0-9_.-]+", requirement).group(0)
    return re.sub(r"[-_.]+", "-", name).lower()


def test_every_runtime_dependency_is_pinned_and_the_runtime_lock_is_the_test_lock_s():
    runtime, test = pins("runtime.txt"), pins("test.txt")
    assert {normalise(r) for r in PROJECT["dependencies"]} <= set(runtime)
    assert {p: test.get(p) for p in runtime} == runtime


def test_every_test_tool_is_pinned():
    assert {normalise(r) for r in PROJECT["optional-dependencies"]["test"]} <= set(pins("test.txt"))


def test_the_image_lock_holds_the_runtime_and_the_supervision_stack_at_the_test_versions():
    ops, runtime, test = pins("ops.txt"), pins("runtime.txt"), pins("test.txt")
    assert {normalise(r) for r in PROJECT["optional-dependencies"]["ops"]} <= set(ops)
    assert set(runtime) <= set(ops)
    assert {p: test.get(p) for p in ops} == ops
