"""The composition root of the guichet unique: the message registry, the directory of services, the
parties and the four agency definitions, built in one place and handed down to whatever runs them
(a service, the simulator, a tool).

Nothing is registered by importing a module and nothing here changes at run time: the same
directory gives the same composition (built once). The process's own settings (TLS, keys, the
bounds of a sender's clock) are the command line's (guichet_cli/settings.py), which calls
`compose` with the directory of services they name.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from guichet.agency import AgencyDefinition
from guichet.message import MessageRegistry
from guichet.topology import Parties
from schemas.catalogue import message_registry
from services.agencies import definitions
from services.directory import Directory
from services.parties import PARTIES


@dataclass(frozen=True)
class GuichetUnique:
    """What the agencies of one process are made of."""

    directory: Directory
    messages: MessageRegistry
    agencies: Mapping[str, AgencyDefinition]
    parties: Parties


@lru_cache(maxsize=4)
def compose(directory: Directory) -> GuichetUnique:
    messages = message_registry()
    return GuichetUnique(
        directory=directory, messages=messages, agencies=definitions(directory, messages), parties=PARTIES
    )
