"""The parties of the guichet unique, and the message base the contracts share.

`Message` and its registry are the runtime's (`guichet.message`): every class defined in this
package registers its type there when the package is imported.
"""
from __future__ import annotations

from typing import Literal

from guichet.message import REGISTRY, Message, Model, message_class  # noqa: F401  (the contracts import them from here)

Agency = Literal["ofii", "smoe", "consulat", "prefecture"]
Party = Literal["ofii", "smoe", "consulat", "prefecture", "employeur", "travailleur", "ministere"]
AGENCIES: tuple[str, ...] = ("ofii", "smoe", "consulat", "prefecture")
