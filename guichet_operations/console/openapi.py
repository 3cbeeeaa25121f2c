"""The OpenAPI 3.1 document of /api/v1/, served at /api/v1/openapi.json and published as
docs/console-api.json (a test keeps the two equal and checks real answers against its schemas).

Parameters are named as on the pages (French, as the console's users say them); answers carry the
store's fields. Every route needs a session (the cookie the sign-in sets, docs/console-access.md);
a POST needs the session's CSRF token in X-CSRF-Token."""

from __future__ import annotations

from typing import Any

from guichet_operations.console.dossiers import MAX_PAGE_SIZE, PAGE_SIZE, SORTS
from guichet_operations.console.failures import MOVES, STATUSES
from schemas.base import AGENCIES

SESSION_COOKIE = "guichet_session"


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}  # fmt: skip


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


TEXT, INT, BOOL = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}
MAYBE_TEXT = {"type": ["string", "null"]}
MAYBE_INT = {"type": ["integer", "null"]}
SIZE = _query("taille", f"rows per page, 1 to {MAX_PAGE_SIZE} (default {PAGE_SIZE})",
              {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE})  # fmt: skip
CLOCK = _object(
    ["now", "virtual", "time_scale"],
    now={"type": "string", "format": "date-time", "description": "the bus clock (virtual on simulated data)"},
    virtual=BOOL,
    time_scale={"type": "number"},
)
DOSSIER_ROW = _object(
    ["dossier_id", "outcome", "closed", "updated_at", "breached", "standing"],
    dossier_id=TEXT, title=MAYBE_TEXT, route=MAYBE_TEXT, outcome=TEXT, closed=INT, step=MAYBE_TEXT,
    holder={"type": ["string", "null"], "description": "the agency the dossier waits on"},
    departement=MAYBE_TEXT, prefecture=MAYBE_TEXT, siret=MAYBE_TEXT, agdref_number=MAYBE_TEXT,
    filed_at=MAYBE_TEXT, updated_at=TEXT, next_deadline=MAYBE_TEXT, breached=INT, alerts=INT,
    standing={"type": "string", "description": "one rule for the list and the dossier page (console/standing.py)"},
)  # fmt: skip
FAILURE_ROW = _object(
    ["id", "reason", "status", "failed_at", "body_size"],
    id=INT, message_id=MAYBE_TEXT, dossier_id=MAYBE_TEXT, type=MAYBE_TEXT, reason=TEXT, queue=MAYBE_TEXT,
    failed_at=TEXT, ingested_at=TEXT, status={"enum": list(STATUSES) + ["rejeu_en_cours"]}, body_size=INT,
)  # fmt: skip
# How far an agency's signed anchors prove its journal, and what the store found wrong with it.
JOURNAL_STATE = _object(
    ["anchors_held", "proven_up_to", "last_anchor", "findings_count", "findings"],
    anchors_held=INT, proven_up_to=MAYBE_INT, findings_count=INT,
    last_anchor={"type": ["object", "null"], "properties": {
        "seq": INT, "signed_at": TEXT, "signature_status": {"enum": ["valid", "invalid", "unchecked"]},
        "chain_status": {"enum": ["held", "broken", "partial"]}}},
    findings={"type": "array", "items": _object(["seq", "kind", "detail", "found_at"],
                                                seq=INT, kind=TEXT, detail=TEXT, found_at=TEXT)},
)  # fmt: skip
PROBLEM = _object(["status", "detail"], status=INT, detail={"type": "string", "description": "in French"})


def _answer(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _get(
    summary: str, answer: dict[str, Any], parameters: list[dict[str, Any]] | None = None, found: bool = False
) -> dict:
    responses = {"200": _answer(answer), "400": _answer(PROBLEM, "a parameter the console cannot read"),
                 "401": {"description": "no session: sign in first"}}  # fmt: skip
    if found:
        responses["404"] = _answer(PROBLEM, "not in the supervision store")
    return {"get": {"summary": summary, "parameters": parameters or [], "responses": responses}}


def _paths() -> dict[str, Any]:
    page = {"next": MAYBE_TEXT, "previous": MAYBE_TEXT}
    return {
        "/api/v1/openapi.json": _get("this document", {"type": "object"}),
        "/api/v1/dossiers": _get(
            "dossiers, one page (keyset: `apres`/`avant` are the cursors of the answer's next/previous)",
            _object(
                ["clock", "rows", "count", "count_capped"],
                clock=CLOCK,
                rows={"type": "array", "items": DOSSIER_ROW},
                count=INT,
                count_capped=BOOL,
                **page,
            ),  # fmt: skip
            [
                _query("etat", "en_cours or clos", {"enum": ["en_cours", "clos"]}),
                _query("agence", "the agency it waits on", {"enum": list(AGENCIES)}),
                _query("etape", "its current step"),
                _query("titre", "the title applied for"),
                _query("departement", "the département of employment"),
                _query("prefecture", "the préfecture's département"),
                _query("retard", "1: a legal deadline passed", {"enum": ["1", "true", "on"]}),
                _query("depasse", "1: a breach was alerted", {"enum": ["1", "true", "on"]}),
                _query("depuis", "filed on or after (AAAA-MM-JJ)", {"type": "string", "format": "date"}),
                _query("jusqu_au", "filed on or before (AAAA-MM-JJ)", {"type": "string", "format": "date"}),
                _query("q", "a dossier id, an AGDREF number or a SIRET"),
                _query("tri", "sort key", {"enum": list(SORTS)}),
                _query("ordre", "asc or desc", {"enum": ["asc", "desc"]}),
                _query("apres", "cursor: the page after"),
                _query("avant", "cursor: the page before"),
                SIZE,
            ],
        ),
        "/api/v1/dossiers/{dossier_id}": {
            **_get(
                "one dossier: its row, the DT-OFII's view, French summary, timeline, tasks, refusals, failures; "
                "the worker's name and nationality for the role agent only",
                _object(
                    ["id", "row", "timeline", "tasks", "personal_hidden"],
                    clock=CLOCK,
                    id=TEXT,
                    row={"type": ["object", "null"]},
                    view={"type": ["object", "null"]},
                    summary=MAYBE_TEXT,
                    standing=MAYBE_TEXT,
                    timeline={"type": "array"},
                    arrows=INT,
                    tasks={"type": "array"},
                    refusals={"type": "array"},
                    failures={"type": "array", "items": FAILURE_ROW},
                    personal={"type": ["object", "null"]},
                    personal_hidden=BOOL,
                ),  # fmt: skip
                found=True,
            ),
            "parameters": [{"name": "dossier_id", "in": "path", "required": True, "schema": TEXT}],
        },
        "/api/v1/deadlines": _get(
            "open tasks with a legal deadline, the earliest first (employer-side waits are never on it)",
            _object(
                ["clock", "rows", "next", "breaches", "breaches_capped"],
                clock=CLOCK,
                rows={
                    "type": "array",
                    "items": _object(
                        ["agency", "dossier_id", "task", "deadline", "status"],
                        agency=TEXT,
                        dossier_id=TEXT,
                        task=TEXT,
                        deadline=TEXT,
                        opened_at=TEXT,
                        status={"enum": ["ok", "warning", "breach"]},
                        left={"type": "number", "description": "seconds left (negative: passed)"},
                    ),
                },
                next=MAYBE_TEXT,
                breaches=INT,
                breaches_capped=BOOL,
            ),  # fmt: skip
            [_query("agence", "one agency's tasks", {"enum": list(AGENCIES)}), _query("apres", "cursor"), SIZE],
        ),
        "/api/v1/failures": _get(
            "the error queue as the store holds it (listing changes nothing on the broker), newest first",
            _object(
                ["rows", "next", "counts"],
                rows={"type": "array", "items": FAILURE_ROW},
                next=MAYBE_INT,
                counts={"type": "object", "additionalProperties": INT},
            ),  # fmt: skip
            [_query("statut", "status", {"enum": list(STATUSES)}), _query("apres", "below this id", INT), SIZE],
        ),
        "/api/v1/failures/{failure_id}": {
            **_get(
                "one failure: headers and body redacted of personal data, its history",
                {
                    **FAILURE_ROW,
                    "properties": {
                        **FAILURE_ROW["properties"],
                        "headers": {"type": "object"},
                        "body": TEXT,
                        "body_cut": {"type": "integer", "description": "bytes of the body not shown"},
                        "events": {"type": "array"},
                    },
                },  # fmt: skip
                found=True,
            ),
            "parameters": [{"name": "failure_id", "in": "path", "required": True, "schema": INT}],
        },
        "/api/v1/failures/{action}": {
            "post": {
                "summary": "replay, archive or restore failures (role operateur); journaled under the person's name",
                "parameters": [
                    {"name": "action", "in": "path", "required": True, "schema": {"enum": list(MOVES)}},
                    {"name": "X-CSRF-Token", "in": "header", "required": True, "schema": TEXT},
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": _object(["ids"], ids={"type": "array", "items": INT, "maxItems": 500})
                        }
                    },
                },  # fmt: skip
                "responses": {
                    "200": _answer(
                        _object(
                            ["done", "skipped", "error"],
                            done={"type": "array", "items": INT},
                            skipped={"type": "array", "items": INT},
                            error=MAYBE_TEXT,
                        )
                    ),  # fmt: skip
                    "502": _answer({"type": "object"}, "the broker did not take a replay: `error` says why"),
                    "400": _answer(PROBLEM, "a body the console cannot read"),
                    "403": _answer(PROBLEM, "role below operateur, or no valid CSRF token"),
                },
            }
        },
        "/api/v1/services": _get(
            "each agency's last audit copy, its lag, its queues as the broker measures them, and how far its "
            "signed anchors prove its journal (with what the store found wrong with it)",
            _object(
                ["clock", "sources"],
                clock=CLOCK,
                sources={
                    "type": "array",
                    "items": _object(
                        ["agency", "seq", "queues"],
                        agency=TEXT,
                        seq=INT,
                        bus_now=TEXT,
                        received_at=TEXT,
                        lag={"type": ["number", "null"]},
                        queues={
                            "type": "object",
                            "additionalProperties": _object(["messages", "consumers"], messages=INT, consumers=INT),
                        },
                        journal=JOURNAL_STATE,
                    ),
                },
            ),  # fmt: skip
        ),
        "/api/v1/actions": _get(
            "the journal of operators' actions and sign-ins, newest first",
            _object(
                ["rows", "next"],
                rows={
                    "type": "array",
                    "items": _object(
                        ["id", "at", "person", "role", "action"],
                        id=INT,
                        at=TEXT,
                        person=TEXT,
                        role=TEXT,
                        action=TEXT,
                        target=MAYBE_TEXT,
                        detail={},
                    ),
                },
                next=MAYBE_INT,
            ),  # fmt: skip
            [_query("avant", "below this id", INT), SIZE],
        ),
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "guichet supervision console",
            "version": "1",
            "description": "What the supervision store holds, for scripts and other tools: the same data and "
            "roles as the console's pages (lecture; agent for personal data; operateur for actions).",
        },
        "servers": [{"url": "/"}],
        "security": [{"session": []}],
        "components": {
            "securitySchemes": {"session": {"type": "apiKey", "in": "cookie", "name": SESSION_COOKIE}},
        },
        "paths": _paths(),
    }


if __name__ == "__main__":  # writes the published copy: python -m guichet_operations.console.openapi
    import json
    from pathlib import Path

    target = Path(__file__).parents[2] / "docs" / "console-api.json"
    target.write_text(json.dumps(document(), indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {target}")
