"""The refusal notices in the AsyncAPI document (guichet/refusals.py): the notice's message and
schema, carried by the refusal exchange and each party's refusal queue, which the topology's
channels describe already (guichet_operations/asyncapi_topology.py)."""

from __future__ import annotations

from typing import Any

from guichet.amqp_headers import BY_NAME
from guichet.envelope import CONTENT_TYPE
from guichet.refusals import NOTICE_TYPE, NOTICE_VERSION, notice_schema
from guichet.topology import Topology
from guichet_operations.asyncapi_parts import REF
from guichet_operations.asyncapi_topology import owner_of

SCHEMA = "RefusalNotice"


def refusal_message() -> dict[str, Any]:
    return {
        "name": NOTICE_TYPE,
        "title": "A refusal notice: a message of this party was refused, and why",
        "summary": "Ids, reason and error texts of the refusal; never the refused payload",
        "contentType": CONTENT_TYPE,
        "headers": {
            "type": "object",
            "properties": {
                "type": BY_NAME["type"].schema() | {"const": NOTICE_TYPE},
                "version": BY_NAME["version"].schema() | {"const": NOTICE_VERSION},
                "refused_by": BY_NAME["refused_by"].schema(),
            },
        },
        "payload": {"$ref": REF.format(model=SCHEMA)},
    }


def refusal_schemas() -> dict[str, Any]:
    return {SCHEMA: notice_schema()}


def attach_refusals(channels: dict[str, Any], topology: Topology) -> None:
    """The notice on the refusal exchange's channel and on each party's refusal queue's channel."""
    ref = {"$ref": f"#/components/messages/{NOTICE_TYPE}"}
    channels[owner_of(topology, topology.refusals_exchange.name)]["messages"] = {NOTICE_TYPE: ref}
    for party in topology.parties.notified:
        channels[owner_of(topology, topology.refusal_queue_name(party))]["messages"] = {NOTICE_TYPE: ref}
