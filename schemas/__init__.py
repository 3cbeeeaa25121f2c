"""Versioned message contracts of the guichet unique, a family a module; `message_registry()`
(schemas/catalogue.py) gathers them all."""

from schemas.base import AGENCIES, Message  # noqa: F401
from schemas.catalogue import message_registry  # noqa: F401
