"""guichet: the OFII single window for qualified foreign workers, carried on a message bus."""
