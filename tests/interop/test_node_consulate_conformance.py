"""`guichet conformance consulat` against the Node.js consulate (connectors/consulat-node) alone on the
bus, unsigned and signed: a connector written from the published contract conforms as the Python one does.
Signed, it returns a signed receipt of the bytes it received for each of the DT-OFII's transmissions
("signed receipts returned"), and keeps the receipts the DT-OFII returns for its own messages."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime

import pytest

from tests.conftest import delete_namespace
from tests.interop.node_consulate import node_process
from tests.services import guichet

pytestmark = pytest.mark.broker

TIME_SCALE = 200_000  # a legal day in about 0.4 s


def node_conformance(
    amqp_url, namespace, tmp_path, node_consulate, signed: bool
) -> tuple[subprocess.CompletedProcess, dict]:
    """`guichet conformance consulat` against the Node.js consulate alone on the bus; its report and
    the consulate's store as it left it."""
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
        with node_process(node_consulate, bus, tmp_path, node_signing) as node:
            done = subprocess.run(
                guichet("conformance", "consulat", *bus["bus"], *clock, *signing),
                capture_output=True,
                text=True,
                timeout=400,
            )
        return done, json.loads(node.state_file.read_text())
    finally:
        delete_namespace(amqp_url, namespace)


def test_node_consulate_passes_guichet_conformance_unsigned(amqp_url, namespace, tmp_path, node_consulate):
    done, store = node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed=False)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "CONFORMS" in done.stdout
    # Unsigned, no receipt travels: none returned, none kept.
    assert "skipped signed receipts returned" in done.stdout.replace("  ", " ")
    assert store["receipts"] == {}
    assert not [r for r in store["outbox"] if r["envelope"]["type"] == "consulat.accuse_reception"]


def test_node_consulate_passes_guichet_conformance_signed(amqp_url, namespace, tmp_path, node_consulate):
    done, store = node_conformance(amqp_url, namespace, tmp_path, node_consulate, signed=True)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "ok      signatures valid" in done.stdout and "CONFORMS" in done.stdout
    assert "ok      signed receipts returned" in done.stdout
    # The receipts the DT-OFII returned for the consulate's messages, each checked against the bytes
    # the consulate published and kept with its record in the store's chain.
    assert store["receipts"], "the consulate kept none of the DT-OFII's receipts"
    records = {r["seq"]: r for r in store["records"]}
    for acknowledged, kept in store["receipts"].items():
        assert kept["receiver"] == "ofii" and store["sent"][acknowledged]["recipient"] == "ofii"
        receipt = json.loads(kept["body"])
        assert receipt["type"] == "ofii.accuse_reception" and receipt["signature"]
        assert receipt["payload"]["message_hash"] == store["sent"][acknowledged]["message_hash"]
        assert records[kept["record_seq"]]["direction"] == "receipt"
