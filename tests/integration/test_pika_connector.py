"""Interoperability: an agency connector written with plain pika and the exported JSON Schemas,
without any of guichet's code, files a dossier and receives what the bus sends the employer and
the worker."""

import json
import time
import uuid
from datetime import UTC, datetime

import jsonschema
import pika
import pytest

from guichet_cli.commands.schemas_cmd import export_schemas
from tests.conftest import dossier
from tests.services import running_services

pytestmark = pytest.mark.broker


class PikaConnector:
    """What an employers' portal in any language would do, here in Python with pika only."""

    def __init__(self, url: str, namespace: str, schemas_dir):
        self.namespace, self.schemas_dir = namespace, schemas_dir
        self.index = {e["type"]: e for e in json.loads((schemas_dir / "index.json").read_text())}
        # kombu writes the default vhost as a trailing "//", pika as "/%2F".
        url = url[:-2] + "/%2F" if url.endswith("//") else url
        self.connection = pika.BlockingConnection(pika.URLParameters(url))
        self.channel = self.connection.channel()
        self.channel.confirm_delivery()

    def schema(self, name: str) -> dict:
        return json.loads((self.schemas_dir / name).read_text())

    def file(self, dossier_id: str, payload: dict, facts: dict) -> None:
        entry = self.index["employeur.depot_autorisation_travail"]
        envelope = {
            "message_id": str(uuid.uuid4()),
            "type": entry["type"],
            "version": entry["version"],
            "dossier_id": dossier_id,
            "causation_id": None,
            # The employer the portal authenticated, by its SIRET: it files for itself.
            "sender": {"agency": "employeur", "office": payload["dossier"]["employer"]["siret"]},
            "recipient": entry["recipient"],
            "sent_at": datetime.now(UTC).isoformat(),
            "deadline": None,
            "facts": facts,
            "payload": payload,
        }
        jsonschema.validate(payload, self.schema(entry["schema"]))
        jsonschema.validate(envelope, self.schema("envelope.schema.json"))
        self.channel.basic_publish(
            exchange=f"{self.namespace}.flux",
            routing_key=entry["routing_key"],
            body=json.dumps(envelope),
            properties=pika.BasicProperties(
                content_type="application/json",
                delivery_mode=2,
                message_id=envelope["message_id"],
                headers={"type": entry["type"], "version": entry["version"]},
            ),
            mandatory=True,
        )

    def receive(self, dossier_id: str, until: str, timeout: float) -> list[dict]:
        """Read the employer's and the worker's queue until `until` arrives, validating each payload."""
        got, deadline = [], time.monotonic() + timeout
        while time.monotonic() < deadline:
            method, properties, body = self.channel.basic_get(f"{self.namespace}.usagers")
            if method is None:
                self.connection.process_data_events(time_limit=0.2)
                continue
            self.channel.basic_ack(method.delivery_tag)
            envelope = json.loads(body)
            if envelope["dossier_id"] != dossier_id:
                continue
            entry = self.index[properties.headers["type"]]
            jsonschema.validate(envelope["payload"], self.schema(entry["schema"]))
            got.append(envelope)
            if envelope["type"] == until:
                return got
        pytest.fail(f"{until} did not arrive in {timeout} s; received {[e['type'] for e in got]}")

    def close(self):
        self.connection.close()


def test_a_plain_pika_connector_files_a_dossier_and_receives_the_decisions(amqp_url, namespace, tmp_path):
    schemas_dir = tmp_path / "schemas"
    export_schemas(schemas_dir)
    raw = dossier(title="carte_bleue_europeenne", employment_department="75", residence_department="75")
    payload = {"dossier": {k: v for k, v in raw.items() if k not in ("id", "facts")} | {"regime": "circulaire-2012"}}
    zero = {
        "ofii_transmission_days": 0,
        "smoe_instruction_days": 0,
        "ofii_consulat_hours": 0,
        "visa_instruction_days": 0,
        "arrival_days_after_visa": 0,
        "titre_deposit_days_after_arrival": 0,
        "prefecture_production_days": 0,
    }
    with running_services(amqp_url, namespace, tmp_path, 1000):
        connector = PikaConnector(amqp_url, namespace, schemas_dir)
        try:
            connector.file("PIKA-1", payload, zero)
            received = connector.receive("PIKA-1", until="ofii.remise_titre", timeout=60)
        finally:
            connector.close()
    subjects = [e["payload"].get("subject") for e in received if e["type"] == "ofii.information_employeur"]
    assert "autorisation_accordee_dossier_transmis_consulat" in subjects
    assert received[-1]["type"] == "ofii.remise_titre" and received[-1]["recipient"] == "travailleur"
