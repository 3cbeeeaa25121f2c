"""A bus's broker URLs: one, or a `;`-separated failover list (a cluster's nodes)."""

from __future__ import annotations

from kombu.connection import Connection

from guichet.configuration import ConfigurationError


class Brokers:
    """The URLs of a `;`-separated failover list, each tried in turn, in a rotating order: each
    connection starts with the URL after the one the last connection used."""

    def __init__(self, url: str):
        self.urls = [u.strip() for u in url.split(";") if u.strip()]
        if not self.urls:
            raise ConfigurationError("broker: no URL given")
        self._next = 0

    def order(self) -> list[str]:
        return self.urls[self._next :] + self.urls[: self._next]

    def used(self, connection: Connection) -> str | None:
        """Note the URL a connection ended up on; the next connection starts after it."""
        where = (connection.hostname, connection.port)
        for index, url in enumerate(self.urls):
            probe = Connection(url)
            if (probe.hostname, probe.port) == where:
                self._next = (index + 1) % len(self.urls)
                return url
        return None
