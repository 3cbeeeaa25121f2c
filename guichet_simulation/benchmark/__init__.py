"""`guichet bench`: the bus measured end to end against a raw kombu relay on the same broker."""
