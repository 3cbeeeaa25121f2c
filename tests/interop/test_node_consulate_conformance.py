"""`guichet conformance consulat` against the Node.js consulate (connectors/consulat-node) alone on the
bus, unsigned and signed: a connector written from the published contract conforms as the Python one does."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import pytest

from tests.conftest import delete_namespace
from tests.interop.node_consulate import node_process
from tests.services import guichet

pytestmark = pytest.mark.broker

TIME_SCALE = 200_000  # a legal day in about 0.4 s


def node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed: bool) -> subprocess.CompletedProcess:
    """`guichet conformance consulat` against the Node.js consulate alone on the bus."""
    from tests.integration.test_signed_messages import make_keys

    signing: list[str] = []
    node_signing: list[str] = []
    if signed:
        directory, keys = make_keys(tmp_path, ("ofii", "smoe", "consulat", "prefecture", "employeur", "travailleur"))
        signing = ["--key-directory", str(directory), "--keys-dir", str(keys)]
        node_signing = [*signing, "--require-signatures"]
    clock = ["--time-scale", repr(float(TIME_SCALE)), "--clock-origin", datetime.now(UTC).isoformat()]
    bus = {"bus": ["--broker", amqp_url, "--namespace", namespace], "clock": clock}
    try:
        with node_process(node_consulate, bus, tmp_path, node_signing):
            return subprocess.run(
                guichet("conformance", "consulat", *bus["bus"], *clock, *signing),
                capture_output=True,
                text=True,
                timeout=400,
            )
    finally:
        delete_namespace(amqp_url, namespace)


def test_node_consulate_passes_guichet_conformance_unsigned(amqp_url, namespace, tmp_path, node_consulate):
    done = node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed=False)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "CONFORMS" in done.stdout


def test_node_consulate_passes_guichet_conformance_signed(amqp_url, namespace, tmp_path, node_consulate):
    done = node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed=True)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "ok      signatures valid" in done.stdout and "CONFORMS" in done.stdout
