"""The AsyncAPI document is read by the official AsyncAPI parser (npm @asyncapi/parser 3.x, installed
from tests/interop/asyncapi/package-lock.json), as a connector's tooling would read it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from guichet_cli.main import main
from guichet_operations.broker_permissions import receipt_key, receipt_senders
from schemas.catalogue import message_registry
from services.parties import PARTIES

MESSAGES = message_registry()

CHECKER = Path(__file__).resolve().parents[1] / "interop" / "asyncapi"


@pytest.fixture(scope="session")
def asyncapi_parser() -> list[str]:
    """`node validate.mjs`, with the parser installed by the project's own lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail("node and npm are needed to run the official AsyncAPI parser (apt-get install nodejs npm)")
    installed = CHECKER / "node_modules" / "@asyncapi" / "parser" / "package.json"
    lock = CHECKER / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund"], cwd=CHECKER, capture_output=True, text=True, timeout=600
        )
        assert result.returncode == 0, f"npm ci failed:\n{result.stderr[-2000:]}"
    return [node, str(CHECKER / "validate.mjs")]


def parse(parser: list[str], path: Path) -> dict:
    result = subprocess.run([*parser, str(path)], capture_output=True, text=True, timeout=300)
    assert result.stdout, result.stderr
    return json.loads(result.stdout.splitlines()[-1])


def test_the_asyncapi_document_is_valid_and_names_every_queue_and_message(asyncapi_parser, tmp_path, capsys):
    out = tmp_path / "asyncapi.json"
    assert main(["asyncapi", "--out", str(out), "--namespace", "gu"]) == 0
    report = parse(asyncapi_parser, out)
    errors = [d for d in report["diagnostics"] if d["severity"] in ("error", "warning")]
    assert report["valid"] and not errors, errors
    assert report["version"] == "3.0.0"

    addresses = {c["address"]: c for c in report["channels"].values()}
    for owner in (*PARTIES.agencies, *PARTIES.outside, "erreurs", "retard", "attente.1s", "attente.10s", "attente.60s"):
        channel = addresses[f"gu.{owner}"]
        assert channel["amqp"]["is"] == "queue" and channel["amqp"]["queue"]["durable"] is True
    flow = addresses["gu.flux"]
    assert flow["amqp"]["exchange"] == {
        "name": "gu.flux",
        "type": "topic",
        "durable": True,
        "autoDelete": False,
        "vhost": "/",
    }
    # Besides the contract's messages: each agency's signed receipts to the administrations it hears
    # from (docs/proof.md), keyed by routing key, and the copies of its journal anchors to the ministry.
    receipts = {receipt_key(r, s) for r in PARTIES.agencies for s in receipt_senders(r)}
    anchors = {f"ministere.{a}.ancre_journal" for a in PARTIES.agencies}
    assert set(flow["messages"]) == set(MESSAGES) | receipts | anchors, "every message is published on the flow"
    for agency in PARTIES.agencies:
        expected = {t for t, cls in MESSAGES.items() if cls.RECIPIENT == agency}
        expected |= {k for k in receipts if k.startswith(f"{agency}.")}
        assert set(addresses[f"gu.{agency}"]["messages"]) == expected, agency
    assert anchors <= set(addresses["gu.ministere"]["messages"])
    assert {"userPassword", "X509", "asymmetricEncryption"} == set(report["securitySchemes"])
    assert set(report["servers"]) == {"amqp", "amqps"}
    sends = {o["id"] for o in report["operations"] if o["action"] == "send"}
    waits = {f"send.wait.{s}" for s in ("1s", "10s", "60s")}
    assert sends == {f"send.{t}" for t in (*MESSAGES, *receipts, *anchors)} | {"send.error"} | waits


def test_the_parser_refuses_a_broken_document(asyncapi_parser, tmp_path):
    """The check can fail: a message that names a schema nobody defines is an error."""
    out = tmp_path / "asyncapi.json"
    assert main(["asyncapi", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    doc["channels"]["ofii"]["messages"]["ofii.nowhere"] = {"$ref": "#/components/messages/nowhere"}
    out.write_text(json.dumps(doc))
    report = parse(asyncapi_parser, out)
    assert not report["valid"] or any(d["severity"] == "error" for d in report["diagnostics"])


def test_schemas_export_writes_the_asyncapi_document_beside_the_json_schemas(tmp_path, capsys):
    assert main(["schemas", "export", "--out", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "asyncapi.json").read_text())
    assert doc["asyncapi"] == "3.0.0"
    index = json.loads((tmp_path / "index.json").read_text())
    # The contract's messages; receipts and anchor copies are described in the AsyncAPI document only.
    runtime = {k for k in doc["channels"]["flux"]["messages"] if k.endswith((".accuse_reception", ".ancre_journal"))}
    assert runtime and {m["type"] for m in index} == set(doc["channels"]["flux"]["messages"]) - runtime
