"""Node.js for the tests that play a JavaScript party (a verifier, an amqplib consumer, the Node.js
consulate, an OpenID Connect provider): a folder's packages installed from its lock file by `npm ci`.
Node and npm are required: those tests fail, never skip, without them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def npm_ci(folder: Path, why: str) -> str:
    """Install `folder`'s packages from its package-lock.json; the path of node."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(f"node and npm are needed {why} (install Node.js 20+)")
    installed = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=folder, capture_output=True, text=True, timeout=300
    )
    if installed.returncode != 0:
        pytest.fail(f"npm ci in {folder} failed: {installed.stderr.strip()[-2000:]}")
    return node
