"""The embedded default's transport (`memory://`): kombu's in-memory broker, without two costs it
pays on every message for the sake of other stores.

- Bodies are kept as they are. kombu's virtual transports encode every body in base64 on publish
  and decode it on delivery, for stores that only hold text (Redis, SQS); a Python queue holds the
  bytes themselves.
- Delivery tags are counted. kombu draws a random UUID for each; a tag only has to be unique among
  the deliveries a channel has not acked yet, and a counter shared by every channel is.

Everything else (exchanges, bindings, topic routing, queues shared by every connection of the
process, acks) is kombu's own.
"""
from __future__ import annotations

from itertools import count

from kombu.transport import memory

_delivery_tags = count(1)


class Channel(memory.Channel):
    body_encoding = None

    def _next_delivery_tag(self) -> int:
        return next(_delivery_tags)


class Transport(memory.Transport):
    Channel = Channel
