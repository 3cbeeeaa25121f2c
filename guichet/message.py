"""The message base class and the registry of every message type a bus knows.

Each payload class names its type, its version, who may send it, to whom it goes and which
step of the flow it records. A new version brings old payloads up with `upcast_vN_vN1`
static methods before validation, so handlers only ever see the current version. The runtime
knows no message of its own: the contracts that subclass `Message` register themselves here when
their module is imported.
"""
from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

REGISTRY: dict[str, type["Message"]] = {}


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(Model):
    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1
    SENDER: ClassVar[str]
    RECIPIENT: ClassVar[str]
    # The step this message records, as named in the scenario contract.
    STEP: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "TYPE" in cls.__dict__:
            if cls.TYPE in REGISTRY:
                raise TypeError(f"message type {cls.TYPE} defined twice")
            if cls.TYPE.split(".")[0] != cls.SENDER:
                raise TypeError(f"{cls.TYPE}: a type starts with its sender ({cls.SENDER})")
            REGISTRY[cls.TYPE] = cls

    @classmethod
    def upcast(cls, payload: dict[str, Any], version: int) -> dict[str, Any]:
        """Bring a payload of an older version up to the current one, step by step."""
        while version < cls.VERSION:
            step = getattr(cls, f"upcast_v{version}_v{version + 1}")
            payload = step(dict(payload))
            version += 1
        return payload


def message_class(type_: str) -> type[Message] | None:
    return REGISTRY.get(type_)
