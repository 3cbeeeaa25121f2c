"""The console's JSON API is what its OpenAPI document says (issue 22: the JSON API documented with
OpenAPI): the published copy in docs/ is the one served, every route is in it and nothing else, and
real answers of each GET on a hand-made store validate against the document's schemas."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest
from starlette.routing import Route

from guichet_operations.console import api
from guichet_operations.console.openapi import document
from guichet_operations.supervision.store import Store
from tests.console_people import SignedIn
from tests.console_store import NOW, add_dossier, add_failure, add_record, add_source, add_task

PUBLISHED = Path(__file__).parents[2] / "docs" / "console-api.json"


def test_the_published_document_is_the_one_served_and_names_every_route():
    assert json.loads(PUBLISHED.read_text()) == document(), "regenerate: python -m guichet_operations.console.openapi"
    jsonschema.Draft202012Validator.check_schema({"$defs": {}})  # the validator below speaks 2020-12
    routes = {r.path.replace(":int", "").replace(":str", "") for r in api.routes(None) if isinstance(r, Route)}  # type: ignore[arg-type]
    assert routes == set(document()["paths"]), "a route missing from the document, or a path with no route"


@pytest.fixture
def client(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'supervision.db'}")
    add_source(store, "ofii", NOW, NOW, queues={"guichet.ofii": {"messages": 3, "consumers": 1}})
    add_dossier(store, "D-1")
    add_task(store, "D-1", "transmission_smoe", NOW - timedelta(days=2), NOW + timedelta(days=3))
    add_record(store, "ofii", 1, "D-1", "m-1", "ofii.transmission_smoe", "ofii", "smoe", NOW)
    failure_id = add_failure(store, b'{"payload": {"surname": "DOE"}}', "k-1", dossier_id="D-1")
    yield SignedIn(store, real_now=lambda: NOW), failure_id
    store.close()


def schema_of(path: str, method: str = "get", status: str = "200") -> dict:
    return document()["paths"][path][method]["responses"][status]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    "path, url",
    [
        ("/api/v1/dossiers", "/api/v1/dossiers?etat=en_cours&taille=10"),
        ("/api/v1/dossiers/{dossier_id}", "/api/v1/dossiers/D-1"),
        ("/api/v1/deadlines", "/api/v1/deadlines"),
        ("/api/v1/failures", "/api/v1/failures"),
        ("/api/v1/failures/{failure_id}", "/api/v1/failures/{failure_id}"),
        ("/api/v1/services", "/api/v1/services"),
        ("/api/v1/actions", "/api/v1/actions"),
    ],
)
def test_each_answer_validates_against_the_document(client, path, url):
    c, failure_id = client
    answer = c.person("agent").get(url.format(failure_id=failure_id))
    assert answer.status_code == 200, answer.text
    jsonschema.validate(answer.json(), schema_of(path), cls=jsonschema.Draft202012Validator)


def test_an_action_and_a_problem_answer_as_documented(client):
    c, failure_id = client
    operator, reader = c.person("operateur"), c.person()
    csrf = {"X-CSRF-Token": operator.csrf}
    done = operator.post("/api/v1/failures/archive", json={"ids": [failure_id]}, headers=csrf)
    assert done.status_code == 200 and done.json()["done"] == [failure_id]
    jsonschema.validate(done.json(), schema_of("/api/v1/failures/{action}", "post"))
    journal = reader.get("/api/v1/actions").json()
    jsonschema.validate(journal, schema_of("/api/v1/actions"))
    assert journal["rows"][0]["action"] == "failures.archive"
    bad = reader.get("/api/v1/dossiers?tri=nimporte")
    assert bad.status_code == 400
    jsonschema.validate(bad.json(), schema_of("/api/v1/dossiers", status="400"))
