"""The exported JSON Schemas are what an agency writes its connector from: every field of every
message, and of every model nested in one, says what it is and shows a value; and every value
shown is one the bus accepts, both by the message classes and by the exported schemas."""

from __future__ import annotations

import json
import types
import typing

import pytest
from jsonschema import Draft202012Validator
from pydantic import BaseModel

from guichet_cli.main import main
from schemas.catalogue import message_registry
from schemas.facts import Facts

MESSAGES = message_registry()

MESSAGE_TYPES = sorted(MESSAGES)


def undocumented(schema: dict) -> list[str]:
    """'Model.field: no description' for each property, top level and in $defs, lacking one or the other."""
    models = {schema["title"]: schema, **schema.get("$defs", {})}
    return [
        f"{model_name}.{field}: no {key}"
        for model_name, model in models.items()
        for field, prop in model.get("properties", {}).items()
        for key in ("description", "examples")
        if not prop.get(key)
    ]


def nested_model(annotation) -> tuple[type[BaseModel] | None, bool]:
    """The model a field holds, if any, and whether it holds a list of them (`X | None`, `list[X]`)."""
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        inner = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
        return nested_model(inner[0]) if len(inner) == 1 else (None, False)
    if origin is list:
        model, _ = nested_model(typing.get_args(annotation)[0])
        return model, model is not None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    return None, False


def example_payload(model: type[BaseModel]) -> dict:
    """A JSON payload made of each field's first example; a nested model is built the same way from
    its own fields' examples, so that every level's examples are put to the test."""
    payload = {}
    for name, field in model.model_fields.items():
        inner, many = nested_model(field.annotation)
        if inner is not None:
            payload[name] = [example_payload(inner)] if many else example_payload(inner)
        else:
            assert field.examples and field.examples[0] is not None, f"{model.__name__}.{name}: no example value"
            payload[name] = field.examples[0]
    return payload


def models_within(model: type[BaseModel]) -> set[type[BaseModel]]:
    found = {model}
    for field in model.model_fields.values():
        inner, _ = nested_model(field.annotation)
        if inner is not None:
            found |= models_within(inner)
    return found


def every_example_variant(model: type[BaseModel]):
    """(where, payload): the first-example payload with one field set in turn to each of its examples."""
    base = example_payload(model)
    for name, field in model.model_fields.items():
        for i, example in enumerate(field.examples or []):
            yield f"{model.__name__}.{name} example {i}", {**base, name: example}


@pytest.mark.parametrize("type_", MESSAGE_TYPES)
def test_every_field_of_every_message_and_nested_model_has_a_description_and_examples(type_):
    missing = undocumented(MESSAGES[type_].model_json_schema())
    assert not missing, f"{type_}: " + "; ".join(missing)


def test_every_scenario_fact_has_a_description_and_examples():
    missing = undocumented(Facts.model_json_schema())
    assert not missing, "; ".join(missing)


def test_the_check_names_the_field_that_lacks_a_description_or_examples():
    class Undocumented(BaseModel):
        documented: int = 0

    schema = Undocumented.model_json_schema()
    assert undocumented(schema) == ["Undocumented.documented: no description", "Undocumented.documented: no examples"]


@pytest.mark.parametrize("type_", MESSAGE_TYPES)
def test_a_message_built_from_its_fields_first_examples_is_valid(type_):
    cls = MESSAGES[type_]
    payload = example_payload(cls)
    message = cls.model_validate_json(json.dumps(payload))
    assert set(message.model_dump()) == set(cls.model_fields)


@pytest.mark.parametrize("type_", MESSAGE_TYPES)
def test_every_example_of_every_field_is_accepted_by_the_message_class(type_):
    for model in models_within(MESSAGES[type_]):
        for where, payload in every_example_variant(model):
            try:
                model.model_validate_json(json.dumps(payload))
            except ValueError as error:
                pytest.fail(f"{type_}: {where} is invalid: {error}")


def test_every_example_of_every_fact_is_accepted():
    for where, payload in every_example_variant(Facts):
        try:
            Facts.model_validate_json(json.dumps(payload))
        except ValueError as error:
            pytest.fail(f"{where} is invalid: {error}")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("schemas-json")
    assert main(["schemas", "export", "--out", str(out)]) == 0
    return out, json.loads((out / "index.json").read_text())


def test_the_exported_schemas_carry_the_descriptions_and_accept_the_examples(exported):
    out, index = exported
    assert sorted(entry["type"] for entry in index) == MESSAGE_TYPES
    for entry in index:
        schema = json.loads((out / entry["schema"]).read_text())
        missing = undocumented(schema)
        assert not missing, f"{entry['schema']}: " + "; ".join(missing)
        validator = Draft202012Validator(schema)
        cls = MESSAGES[entry["type"]]
        for where, payload in [("first examples", example_payload(cls)), *every_example_variant(cls)]:
            errors = [error.message for error in validator.iter_errors(payload)]
            assert errors == [], f"{entry['schema']}: {where}: {errors}"


def test_the_exported_dossier_tells_a_connector_where_the_employment_department_comes_from(exported):
    out, _ = exported
    schema = json.loads((out / "employeur.depot_autorisation_travail.v1.schema.json").read_text())
    department = schema["$defs"]["Dossier"]["properties"]["employment_department"]
    assert "lieu effectif d'emploi" in department["description"] and "II.A.1" in department["description"]
    assert department["examples"][0] == "92"
    validator = Draft202012Validator(schema)
    bad = example_payload(MESSAGES["employeur.depot_autorisation_travail"])
    bad["dossier"]["employment_department"] = "999"
    assert not validator.is_valid(bad)
