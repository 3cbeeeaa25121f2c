"""The message registry is built, not filled by imports: schemas/catalogue.py gathers every
contract the schemas package defines, and a type defined twice is refused."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import schemas
from guichet.message import Message, MessageRegistry
from schemas.catalogue import message_registry
from schemas.remise import RemiseTitre


def every_contract_defined_in_the_package() -> set[str]:
    for module in pkgutil.iter_modules(schemas.__path__):
        importlib.import_module(f"schemas.{module.name}")

    def below(cls: type[Message]):
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return {c.TYPE for c in below(Message) if "TYPE" in c.__dict__ and c.__module__.startswith("schemas.")}


def test_the_catalogue_holds_every_message_the_package_defines():
    """A new family module left out of the catalogue would be a message no agency could decode."""
    assert set(message_registry()) == every_contract_defined_in_the_package()


def test_defining_a_message_class_registers_nothing():
    class Essai(Message):
        TYPE, SENDER, RECIPIENT = "ofii.essai_catalogue", "ofii", "smoe"

    assert "ofii.essai_catalogue" not in message_registry()
    assert MessageRegistry([Essai])["ofii.essai_catalogue"] is Essai


def test_two_classes_under_one_type_are_refused():
    class Imposteur(Message):
        TYPE, SENDER, RECIPIENT = RemiseTitre.TYPE, RemiseTitre.SENDER, RemiseTitre.RECIPIENT

    with pytest.raises(TypeError, match=f"message type {RemiseTitre.TYPE} defined twice"):
        MessageRegistry([RemiseTitre, Imposteur])


def test_a_type_starts_with_its_sender():
    with pytest.raises(TypeError, match="a type starts with its sender"):

        class Mal(Message):
            TYPE, SENDER, RECIPIENT = "smoe.mal_nomme", "ofii", "smoe"
