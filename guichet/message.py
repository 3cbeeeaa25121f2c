"""The message base class, and the registry of the message types a bus knows.

Each payload class names its type, its version, who may send it, to whom it goes and which
step of the flow it records. A new version brings old payloads up with `upcast_vN_vN1`
static methods before validation, so handlers only ever see the current version. The runtime
knows no message of its own: a `MessageRegistry` is built from the contracts by whoever composes
the process (services/bootstrap.py) and handed down; defining a class registers nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict


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
        if "TYPE" in cls.__dict__ and cls.TYPE.split(".")[0] != cls.SENDER:
            raise TypeError(f"{cls.TYPE}: a type starts with its sender ({cls.SENDER})")

    @classmethod
    def upcast(cls, payload: dict[str, Any], version: int) -> dict[str, Any]:
        """Bring a payload of an older version up to the current one, step by step."""
        while version < cls.VERSION:
            step = getattr(cls, f"upcast_v{version}_v{version + 1}")
            payload = step(dict(payload))
            version += 1
        return payload


class MessageRegistry(Mapping[str, type[Message]]):
    """The message types a process knows, by type: what it decodes, publishes in its AsyncAPI
    document and grants routing keys for. Two classes under one type are refused."""

    def __init__(self, classes: Iterable[type[Message]] = ()):
        self._by_type: dict[str, type[Message]] = {}
        for cls in classes:
            known = self._by_type.get(cls.TYPE)
            if known is not None and known is not cls:
                raise TypeError(f"message type {cls.TYPE} defined twice ({known.__module__}, {cls.__module__})")
            self._by_type[cls.TYPE] = cls

    def __getitem__(self, type_: str) -> type[Message]:
        return self._by_type[type_]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_type)

    def __len__(self) -> int:
        return len(self._by_type)

    def __repr__(self) -> str:
        return f"MessageRegistry({len(self)} types)"
