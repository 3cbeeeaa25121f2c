"""The parties of the guichet unique, and the message base the contracts share.

`Message` is the runtime's (`guichet.message`); schemas/catalogue.py gathers the classes of this
package into one registry.
"""

from __future__ import annotations

from typing import Literal

from guichet.message import Message, Model  # noqa: F401  (the contracts import them from here)

Agency = Literal["ofii", "smoe", "consulat", "prefecture"]
Party = Literal["ofii", "smoe", "consulat", "prefecture", "employeur", "travailleur", "ministere"]
AGENCIES: tuple[str, ...] = ("ofii", "smoe", "consulat", "prefecture")
