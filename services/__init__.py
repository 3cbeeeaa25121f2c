"""The four administrations of the guichet unique, each a consumer service of its own."""
