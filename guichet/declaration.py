"""Declaring a bus's entities on the broker: each exchange and queue created, accepted as it is, or
refused with an error an operator can act on when it exists with another shape (TopologyMismatch);
an account without configure rights checks that they exist instead."""

from __future__ import annotations

from typing import Any

from kombu.connection import Connection
from kombu.entity import Exchange, Queue


def _is(exc: Exception, *marks: str) -> bool:
    text = str(exc)
    return any(mark in text for mark in marks)


def declare_exchange(connection: Connection, exchange: Exchange) -> None:
    with connection.channel() as channel:
        try:
            exchange(channel).declare(passive=True)
            exists = True
        except Exception as exc:  # 404: does not exist yet (the channel is closed by the broker)
            if not _is(exc, "NOT_FOUND", "404") and "not found" not in str(exc).lower():
                raise
            exists = False
    if not exists:
        with connection.channel() as channel:
            exchange(channel).declare()
        return
    _check_exchange(connection, exchange)


def declare_queue(connection: Connection, queue: Queue) -> str | None:
    """Declare a queue with the arguments asked: the broker creates it, accepts it as it is, or
    refuses it (406) when it exists with another type or arguments. An account without configure
    rights (an agency's own, after `broker setup`) falls back to a passive check."""
    arguments: dict[str, Any] = queue.queue_arguments or {}  # type: ignore[attr-defined]  # set from kombu's attrs
    with connection.channel() as channel:
        try:
            channel.queue_declare(queue.name, durable=True, auto_delete=False, arguments=arguments)
        except Exception as exc:
            if _is(exc, "PRECONDITION_FAILED", "406"):
                asked = arguments.get("x-queue-type", "classic")
                raise TopologyMismatch(
                    f"queue {queue.name!r} exists on the broker with another type or arguments than the {asked} "
                    f"queue asked ({arguments}): run every command of this bus with the same --queue-type "
                    f"(or GUICHET_QUEUE_TYPE), or delete the queue once it is empty. Broker said: {exc}"
                ) from exc
            if _is(exc, "ACCESS_REFUSED", "403"):
                return _passive(connection, queue)
            if _is(exc, "NOT_FOUND", "404", "RESOURCE_LOCKED", "405"):
                return str(exc)  # e.g. a classic queue whose home node is down
            raise
    for b in queue.bindings:  # a binding added since is made all the same...
        with connection.channel() as channel:
            try:
                channel.queue_bind(queue.name, b.exchange.name, b.routing_key)
            except Exception as exc:  # ...by whoever may: an agency's own account may not (broker setup does)
                if not _is(exc, "ACCESS_REFUSED", "403"):
                    raise
    return None


def _passive(connection: Connection, queue: Queue) -> str | None:
    """Without configure rights the queue must exist (broker setup made it); its type is then checked
    by `guichet broker verify`, not here."""
    with connection.channel() as channel:
        try:
            channel.queue_declare(queue.name, passive=True)
        except Exception as exc:
            if _is(exc, "home node", "down or inaccessible"):
                return str(exc)
            raise
    return None


class TopologyMismatch(RuntimeError):
    """An entity of the bus exists on the broker with another shape than this version declares."""


def _check_exchange(connection: Connection, exchange: Exchange) -> None:
    """A passive declare does not compare types, and an exchange of the wrong type routes by other
    rules: an older direct `vers.erreurs` exchange would drop every failed message now filed under its
    own routing key. Redeclaring an identical exchange changes nothing; a different one is refused
    by the broker, and that refusal is turned into an error an operator can act on."""
    with connection.channel() as channel:
        try:
            exchange(channel).declare()
        except Exception as exc:
            if "PRECONDITION_FAILED" in str(exc) or "406" in str(exc):
                asked = exchange.arguments or {}  # type: ignore[attr-defined]  # set from kombu's attrs
                raise TopologyMismatch(
                    f"exchange {exchange.name!r} exists on the broker but is not a durable {exchange.type} "
                    f"exchange with arguments {asked}: delete it (it is recreated) or run "
                    f"'guichet broker setup'. Broker said: {exc}"
                ) from exc
            if "ACCESS_REFUSED" not in str(exc) and "403" not in str(exc):
                raise
            # An agency's own account has no configure right: `guichet broker verify` checks types.
