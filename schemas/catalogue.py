"""Every message contract of the guichet unique, as one registry: what the composition root
(services/bootstrap.py) hands to the agencies and what the tools document and grant. Built on
request from the modules named here; importing a contract registers nothing."""

from __future__ import annotations

from types import ModuleType

from guichet.message import Message, MessageRegistry
from schemas import (
    actes,
    autorisation_travail,
    competences_talents,
    echeances,
    plateforme,
    recours,
    remise,
    titre,
    veille,
    visa,
)

# One family of messages a module, in the order of the flow.
FAMILIES: tuple[ModuleType, ...] = (
    autorisation_travail,
    plateforme,
    visa,
    titre,
    remise,
    actes,
    recours,
    competences_talents,
    echeances,
    veille,
)


def defined_in(module: ModuleType) -> list[type[Message]]:
    """The message types a module defines (not those it imports), with those it makes one per agency
    and keeps in a dict (schemas/veille.py)."""
    values = list(vars(module).values())
    values += [v for table in values if isinstance(table, dict) for v in table.values()]
    return [
        value
        for value in values
        if isinstance(value, type)
        and issubclass(value, Message)
        and "TYPE" in value.__dict__
        and value.__module__ == module.__name__
    ]


def message_registry() -> MessageRegistry:
    return MessageRegistry(cls for module in FAMILIES for cls in defined_in(module))
