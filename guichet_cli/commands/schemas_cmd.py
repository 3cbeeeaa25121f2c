"""`guichet schemas export`: every message's JSON Schema, for connectors in any language."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from guichet.envelope import Envelope
from guichet_cli.commands import asyncapi_cmd
from schemas.catalogue import message_registry


def add_command(sub) -> None:
    p = sub.add_parser("schemas", help="the message contracts")
    ssub = p.add_subparsers(dest="schemas_command", required=True)
    export = ssub.add_parser(
        "export",
        help="write the envelope's and every message's JSON Schema",
        description="Write envelope.schema.json and one <type>.v<version>.schema.json per "
        "message type into DIR, with an index.json listing type, version, "
        "sender, recipient and routing key, and asyncapi.json (the AsyncAPI "
        "3.0 document of the bus, as `guichet asyncapi` writes it).",
    )
    export.add_argument("--out", default="schemas-json", metavar="DIR", help="output folder (default: schemas-json)")
    export.set_defaults(func=run)


# Each exported schema names itself, so that a validator (ajv, jsonschema) can register them side by
# side and a connector can say which contract it validated against: a URN, stable, tied to no host.
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def schema_id(type_: str | None = None, version: int | None = None) -> str:
    return "urn:guichet:schema:envelope" if type_ is None else f"urn:guichet:schema:{type_}:v{version}"


def identified(schema: dict, id_: str) -> dict:
    return {"$schema": SCHEMA_DIALECT, "$id": id_, **schema}


def export_schemas(out: Path) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    envelope = identified(Envelope.model_json_schema(), schema_id())
    (out / "envelope.schema.json").write_text(json.dumps(envelope, indent=2, ensure_ascii=False))
    index = []
    for type_, cls in sorted(message_registry().items()):
        name = f"{type_}.v{cls.VERSION}.schema.json"
        schema = identified(cls.model_json_schema(), schema_id(type_, cls.VERSION))
        schema["title"] = type_
        schema["description"] = (cls.__doc__ or "").strip()
        (out / name).write_text(json.dumps(schema, indent=2, ensure_ascii=False))
        index.append(
            {
                "type": type_,
                "version": cls.VERSION,
                "sender": cls.SENDER,
                "recipient": cls.RECIPIENT,
                "routing_key": f"{cls.RECIPIENT}.{type_}",
                "step": cls.STEP,
                "schema": name,
                "$id": schema_id(type_, cls.VERSION),
            }
        )
    (out / "index.json").write_text(json.dumps(index, indent=2, ensure_ascii=False))
    asyncapi_cmd.write(out / "asyncapi.json")
    return index


def run(args: argparse.Namespace) -> int:
    index = export_schemas(Path(args.out))
    print(f"wrote {len(index)} message schemas, the envelope's and asyncapi.json to {args.out}")
    return 0
